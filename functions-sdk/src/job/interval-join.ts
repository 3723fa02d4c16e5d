import { InvalidJobError } from "../errors.js";
import type { OutputTag } from "../function/collector.js";
import type { ProcessJoinFunction } from "../function/join-functions.js";
import type { Key } from "../key.js";
import type { KeyedStream, OperatorStream } from "./data-stream.js";
import { IntervalJoinFunction } from "./interval-join-function.js";

/** The name the interval join's operator gets (change it with `.name(...)` on the joined stream). */
export const INTERVAL_JOIN_NAME = "IntervalJoin";

/**
 * Two streams keyed alike, about to be joined on time: `left.intervalJoin(right).between(lower, upper)`.
 * Both need event timestamps.
 */
export class IntervalJoin<L, R, K extends Key> {
  /** @internal */
  constructor(
    private readonly left: KeyedStream<L, K>,
    private readonly right: KeyedStream<R, K>,
  ) {}

  /**
   * Joins a left record at t with the right records of its key whose timestamps are in
   * [t + lowerMs, t + upperMs] (both bounds inclusive until made exclusive). Bounds are integer
   * milliseconds, may be negative, and lowerMs ≤ upperMs.
   *
   * ```ts
   * clicks.keyBy((c) => c.user).intervalJoin(views.keyBy((v) => v.user)).between(-60_000, 0)
   * ```
   */
  between(lowerMs: number, upperMs: number): IntervalJoined<L, R, K> {
    for (const [name, bound] of [
      ["lower", lowerMs],
      ["upper", upperMs],
    ] as const) {
      if (!Number.isSafeInteger(bound)) {
        throw new InvalidJobError(INTERVAL_JOIN_NAME, `the ${name} bound must be an integer of ms, got ${bound}`);
      }
    }
    if (lowerMs > upperMs) {
      throw new InvalidJobError(
        INTERVAL_JOIN_NAME,
        `the lower bound ${lowerMs} ms is above the upper bound ${upperMs} ms: no pair could ever join`,
      );
    }
    return new IntervalJoined<L, R, K>(this.left, this.right, lowerMs, upperMs);
  }
}

/** An interval join with its bounds: optionally make them exclusive, route late records, then `process`. */
export class IntervalJoined<L, R, K extends Key> {
  private lowerInclusive = true;
  private upperInclusive = true;
  private leftLateTag: OutputTag<L> | undefined;
  private rightLateTag: OutputTag<R> | undefined;

  /** @internal */
  constructor(
    private readonly left: KeyedStream<L, K>,
    private readonly right: KeyedStream<R, K>,
    private readonly lowerMs: number,
    private readonly upperMs: number,
  ) {}

  /** Right records at exactly t + lowerMs no longer join. */
  lowerBoundExclusive(): this {
    this.lowerInclusive = false;
    return this;
  }
  /** Right records at exactly t + upperMs no longer join. */
  upperBoundExclusive(): this {
    this.upperInclusive = false;
    return this;
  }

  /** Left records that arrive behind the watermark go to this side output instead of being dropped. */
  sideOutputLeftLateData(tag: OutputTag<L>): this {
    this.leftLateTag = tag;
    return this;
  }
  /** Right records that arrive behind the watermark go to this side output instead of being dropped. */
  sideOutputRightLateData(tag: OutputTag<R>): this {
    this.rightLateTag = tag;
    return this;
  }

  /**
   * Adds the join operator (named "IntervalJoin"): `fn` is called for every matching pair, and
   * what it emits carries the later of the pair's two timestamps.
   */
  process<O>(fn: ProcessJoinFunction<L, R, O>): OperatorStream<O> {
    // Timestamps are integer ms, so an exclusive bound is the inclusive one a millisecond inward (as in Flink).
    const join = new IntervalJoinFunction<K, L, R, O>(fn, {
      lower: this.lowerInclusive ? this.lowerMs : this.lowerMs + 1,
      upper: this.upperInclusive ? this.upperMs : this.upperMs - 1,
      leftLateTag: this.leftLateTag,
      rightLateTag: this.rightLateTag,
    });
    return this.left
      .connect(this.right)
      .keyBy(this.left.keySelector, this.right.keySelector)
      .process(join)
      .name(INTERVAL_JOIN_NAME);
  }
}
