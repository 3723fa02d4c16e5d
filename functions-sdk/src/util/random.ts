/**
 * A small, fast, seeded pseudo-random generator (SplitMix32 mixing over a Weyl sequence).
 * Deterministic across processes and versions, so a seeded source produces the same records
 * on every node and in every run: tests and reruns compare exact results.
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** The generator's whole state: `SeededRandom.restore(r.snapshot())` continues the same sequence. */
  snapshot(): number {
    return this.state;
  }

  static restore(state: number): SeededRandom {
    return new SeededRandom(state);
  }

  /** An unsigned 32-bit integer. */
  nextUint32(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** An integer in [0, bound). */
  nextInt(bound: number): number {
    return Math.floor(this.next() * bound);
  }

  /** A normally distributed float (mean 0, deviation 1), by Box–Muller. */
  nextGaussian(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}
