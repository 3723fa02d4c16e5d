/**
 * What to do when a job fails (Flink's restart strategies):
 * - "none": fail the job.
 * - "fixedDelay": restart after `delayMs`, at most `attempts` times.
 * - "failureRate": restart after `delayMs` unless more than `maxFailures` failures fell within
 *   the last `intervalMs`.
 * - "exponentialDelay": restart after a delay that starts at `initialDelayMs` and is multiplied
 *   by `multiplier` (default 2) per failure up to `maxDelayMs`, with ± `jitter` (a fraction,
 *   default 0.1); a run that lasted `resetAfterMs` (default 10 × maxDelayMs) starts over.
 */
export type RestartStrategy =
  | { readonly kind: "none" }
  | { readonly kind: "fixedDelay"; readonly attempts: number; readonly delayMs: number }
  | {
      readonly kind: "failureRate";
      readonly maxFailures: number;
      readonly intervalMs: number;
      readonly delayMs: number;
    }
  | {
      readonly kind: "exponentialDelay";
      readonly initialDelayMs: number;
      readonly maxDelayMs: number;
      readonly multiplier?: number;
      readonly jitter?: number;
      readonly resetAfterMs?: number;
    };

/** The decision for one failure: restart after `delayMs`, or give up saying why. */
export type RestartDecision =
  | { readonly restart: true; readonly delayMs: number }
  | { readonly restart: false; readonly why: string };

/** Keeps the failure history a strategy decides from. `random` is injectable so jitter is testable. */
export class RestartPolicy {
  private failures: number[] = [];
  private currentDelay: number | undefined;

  constructor(
    private readonly strategy: RestartStrategy,
    private readonly random: () => number = Math.random,
  ) {
    validate(strategy);
  }

  /** A failure at `now`; the run that failed started at `runStartedAt`. */
  onFailure(now: number, runStartedAt: number): RestartDecision {
    const s = this.strategy;
    this.failures.push(now);
    switch (s.kind) {
      case "none":
        return { restart: false, why: "the restart strategy is none" };
      case "fixedDelay":
        return this.failures.length <= s.attempts
          ? { restart: true, delayMs: s.delayMs }
          : {
              restart: false,
              why: `it failed ${this.failures.length} times; the strategy allows ${s.attempts} restarts`,
            };
      case "failureRate": {
        this.failures = this.failures.filter((at) => at > now - s.intervalMs);
        return this.failures.length <= s.maxFailures
          ? { restart: true, delayMs: s.delayMs }
          : {
              restart: false,
              why: `${this.failures.length} failures within ${s.intervalMs} ms; the strategy allows ${s.maxFailures}`,
            };
      }
      case "exponentialDelay": {
        const resetAfter = s.resetAfterMs ?? 10 * s.maxDelayMs;
        if (this.currentDelay === undefined || now - runStartedAt >= resetAfter) this.currentDelay = s.initialDelayMs;
        else this.currentDelay = Math.min(s.maxDelayMs, this.currentDelay * (s.multiplier ?? 2));
        const jitter = s.jitter ?? 0.1;
        const factor = 1 + jitter * (2 * this.random() - 1);
        return { restart: true, delayMs: Math.max(0, Math.round(this.currentDelay * factor)) };
      }
    }
  }
}

function validate(s: RestartStrategy): void {
  const bad = (what: string) => {
    throw new RangeError(`restart strategy ${s.kind}: ${what}`);
  };
  switch (s.kind) {
    case "none":
      return;
    case "fixedDelay":
      if (!(Number.isInteger(s.attempts) && s.attempts >= 0))
        bad(`attempts must be a whole number ≥ 0, got ${s.attempts}`);
      if (!(s.delayMs >= 0)) bad(`delayMs must be ≥ 0, got ${s.delayMs}`);
      return;
    case "failureRate":
      if (!(Number.isInteger(s.maxFailures) && s.maxFailures >= 0))
        bad(`maxFailures must be ≥ 0, got ${s.maxFailures}`);
      if (!(s.intervalMs > 0)) bad(`intervalMs must be > 0, got ${s.intervalMs}`);
      if (!(s.delayMs >= 0)) bad(`delayMs must be ≥ 0, got ${s.delayMs}`);
      return;
    case "exponentialDelay":
      if (!(s.initialDelayMs >= 0 && s.maxDelayMs >= s.initialDelayMs)) {
        bad(`needs 0 ≤ initialDelayMs ≤ maxDelayMs, got ${s.initialDelayMs} and ${s.maxDelayMs}`);
      }
      if (s.multiplier !== undefined && !(s.multiplier >= 1)) bad(`multiplier must be ≥ 1, got ${s.multiplier}`);
      if (s.jitter !== undefined && !(s.jitter >= 0 && s.jitter <= 1)) bad(`jitter must be in [0, 1], got ${s.jitter}`);
      return;
  }
}
