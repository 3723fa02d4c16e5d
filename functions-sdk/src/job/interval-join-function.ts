import { MissingTimestampError } from "../errors.js";
import type { Collector, OutputTag, TimestampOverride } from "../function/collector.js";
import type { KeyedContext, KeyedCoProcessFunction, OnTimerContext } from "../function/functions.js";
import type { ProcessJoinContext, ProcessJoinFunction } from "../function/join-functions.js";
import type { RuntimeContext } from "../function/runtime-context.js";
import type { Key } from "../key.js";
import { type MapStateDescriptor, mapState } from "../state/descriptors.js";
import type { MapState } from "../state/handles.js";

/** The two buffers of an interval join: each side's records of the current key, by timestamp. */
export type IntervalJoinBuffers<L, R> = {
  readonly left: MapStateDescriptor<number, L[]>;
  readonly right: MapStateDescriptor<number, R[]>;
};

/** What the join needs besides the user's function; bounds are inclusive (exclusive ones already moved by 1 ms). */
export interface IntervalJoinSettings<L, R> {
  readonly lower: number;
  readonly upper: number;
  readonly leftLateTag: OutputTag<L> | undefined;
  readonly rightLateTag: OutputTag<R> | undefined;
}

type Ctx<K extends Key, L, R> = KeyedContext<K, IntervalJoinBuffers<L, R>>;

/**
 * Flink's IntervalJoinOperator as a keyed co-process function: a left record at t joins the right
 * records of its key with timestamps in [t + lower, t + upper]. Each record is kept in its side's
 * buffer (map state by timestamp) until it can join no future record, and joined on arrival with
 * what the other buffer holds, so every pair is emitted once, when its later record arrives.
 *
 * A record with a timestamp below the operator's watermark is late: it is dropped (or sent to the
 * side's late-data tag) without joining, as in Flink. A buffered record is removed by an
 * event-time timer at the time after which no on-time record of the other side can match it:
 * left records at t + upper, right ones at t − lower (or at t itself when that is later).
 *
 * One timer serves both sides: the runtime keeps at most one timer per key and timestamp (Flink
 * uses a namespace per side). That is exact, because on each side the cleanup time is a
 * one-to-one function of the record's timestamp: the timer at T removes the left bucket and the
 * right bucket whose cleanup time is T, and nothing else.
 */
export class IntervalJoinFunction<K extends Key, L, R, O>
  implements KeyedCoProcessFunction<K, L, R, O, IntervalJoinBuffers<L, R>>
{
  readonly state: IntervalJoinBuffers<L, R> = { left: mapState<number, L[]>(), right: mapState<number, R[]>() };
  private readonly lower: number;
  private readonly upper: number;
  /** One context per shard, updated before each pair: no allocation per pair. */
  private readonly pair = new PairContext();

  constructor(
    private readonly fn: ProcessJoinFunction<L, R, O>,
    private readonly settings: IntervalJoinSettings<L, R>,
  ) {
    this.lower = settings.lower;
    this.upper = settings.upper;
  }

  open(context: RuntimeContext): void | Promise<void> {
    return this.fn.open?.(context);
  }
  close(): void | Promise<void> {
    return this.fn.close?.();
  }

  processElement1(left: L, ctx: Ctx<K, L, R>, out: Collector<O>): void {
    const ts = timestampOf(ctx, "left");
    if (ts < ctx.currentWatermark()) {
      if (this.settings.leftLateTag !== undefined) ctx.output(this.settings.leftLateTag, left);
      return;
    }
    addTo(ctx.state.left, ts, left);
    const from = ts + this.lower;
    const to = ts + this.upper;
    for (const [rightTs, rights] of ctx.state.right.entries()) {
      if (rightTs < from || rightTs > to) continue;
      for (const right of rights) this.emit(left, right, ts, rightTs, ctx, out);
    }
    ctx.timerService.registerEventTimeTimer(this.upper > 0 ? ts + this.upper : ts);
  }

  processElement2(right: R, ctx: Ctx<K, L, R>, out: Collector<O>): void {
    const ts = timestampOf(ctx, "right");
    if (ts < ctx.currentWatermark()) {
      if (this.settings.rightLateTag !== undefined) ctx.output(this.settings.rightLateTag, right);
      return;
    }
    addTo(ctx.state.right, ts, right);
    // Seen from the right, the left timestamps that match are [ts − upper, ts − lower].
    const from = ts - this.upper;
    const to = ts - this.lower;
    for (const [leftTs, lefts] of ctx.state.left.entries()) {
      if (leftTs < from || leftTs > to) continue;
      for (const left of lefts) this.emit(left, right, leftTs, ts, ctx, out);
    }
    ctx.timerService.registerEventTimeTimer(this.lower < 0 ? ts - this.lower : ts);
  }

  onTimer(timestamp: number, ctx: OnTimerContext<K, IntervalJoinBuffers<L, R>>): void {
    ctx.state.left.remove(this.upper > 0 ? timestamp - this.upper : timestamp);
    ctx.state.right.remove(this.lower < 0 ? timestamp + this.lower : timestamp);
  }

  private emit(left: L, right: R, leftTs: number, rightTs: number, ctx: Ctx<K, L, R>, out: Collector<O>): void {
    const ts = Math.max(leftTs, rightTs);
    stamp(out, ts);
    stamp(ctx, ts);
    this.pair.set(leftTs, rightTs, ts, ctx);
    this.fn.processElement(left, right, this.pair, out);
  }
}

interface SideOutputs {
  output<X>(tag: OutputTag<X>, value: X): void;
}

class PairContext implements ProcessJoinContext {
  leftTimestamp = 0;
  rightTimestamp = 0;
  timestamp = 0;
  private outputs: SideOutputs | undefined;

  set(leftTs: number, rightTs: number, ts: number, outputs: SideOutputs): void {
    this.leftTimestamp = leftTs;
    this.rightTimestamp = rightTs;
    this.timestamp = ts;
    this.outputs = outputs;
  }
  output<X>(tag: OutputTag<X>, value: X): void {
    // The keyed context emits with the pair's timestamp: `emit` stamped it.
    (this.outputs as SideOutputs).output(tag, value);
  }
}

function timestampOf(ctx: { readonly timestamp: number | undefined }, input: "left" | "right"): number {
  const ts = ctx.timestamp;
  if (ts === undefined) throw new MissingTimestampError("the interval join", input);
  return ts;
}

function addTo<T>(buffer: MapState<number, T[]>, ts: number, value: T): void {
  const bucket = buffer.get(ts);
  if (bucket === undefined) buffer.put(ts, [value]);
  else {
    bucket.push(value);
    // Put it back so the state backend sees the change (dirty tracking for the next checkpoint).
    buffer.put(ts, bucket);
  }
}

function stamp(target: unknown, ts: number): void {
  const override = target as Partial<TimestampOverride>;
  if (typeof override.setAbsoluteTimestamp !== "function") {
    throw new TypeError("the runtime's collector cannot set record timestamps, which the interval join needs");
  }
  override.setAbsoluteTimestamp(ts);
}
