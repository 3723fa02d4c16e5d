/**
 * Processing time. Code that reads time takes a Clock so tests can drive it: a SimulatedClock
 * advances only when told, and its timers fire then, with no sleeping.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `callback` once `delayMs` have passed; returns a function that cancels it. */
  schedule(delayMs: number, callback: () => void): () => void;
  /** Resolves once `delayMs` have passed. */
  sleep(delayMs: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(delayMs, callback) {
    const handle = setTimeout(callback, Math.max(0, delayMs));
    return () => clearTimeout(handle);
  },
  sleep(delayMs) {
    return new Promise((resolve) => setTimeout(resolve, Math.max(0, delayMs)));
  },
};

interface Pending {
  readonly at: number;
  readonly seq: number;
  readonly callback: () => void;
  cancelled: boolean;
}

/** A clock for tests: time moves only with `advance`, which fires due callbacks in time order. */
export class SimulatedClock implements Clock {
  private time: number;
  private seq = 0;
  private pending: Pending[] = [];

  constructor(startMs = 0) {
    this.time = startMs;
  }

  now(): number {
    return this.time;
  }

  schedule(delayMs: number, callback: () => void): () => void {
    const entry: Pending = { at: this.time + Math.max(0, delayMs), seq: this.seq++, callback, cancelled: false };
    this.pending.push(entry);
    return () => {
      entry.cancelled = true;
    };
  }

  sleep(delayMs: number): Promise<void> {
    return new Promise((resolve) => this.schedule(delayMs, resolve));
  }

  /** Moves time forward by `ms`, firing every callback due by then (including ones they schedule). */
  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      let next: Pending | undefined;
      for (const entry of this.pending) {
        if (entry.cancelled || entry.at > target) continue;
        if (next === undefined || entry.at < next.at || (entry.at === next.at && entry.seq < next.seq)) next = entry;
      }
      if (next === undefined) break;
      this.pending = this.pending.filter((entry) => entry !== next);
      this.time = Math.max(this.time, next.at);
      next.callback();
    }
    this.time = target;
    this.pending = this.pending.filter((entry) => !entry.cancelled);
  }
}
