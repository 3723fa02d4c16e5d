import type { Collector, OutputTag } from "./collector.js";
import type { RichFunction } from "./runtime-context.js";

/**
 * What an interval join's function knows about the pair it is given: both records' event
 * timestamps, and the pair's own, which is the later of the two (the output record carries it).
 * One object per shard, updated before each pair: read it inside the call, do not keep it.
 */
export interface ProcessJoinContext {
  readonly leftTimestamp: number;
  readonly rightTimestamp: number;
  /** max(leftTimestamp, rightTimestamp): the timestamp of every record emitted for this pair. */
  readonly timestamp: number;
  /** Emits to a side output, with the pair's timestamp; read it with `getSideOutput(tag)` on the joined stream. */
  output<X>(tag: OutputTag<X>, value: X): void;
}

/**
 * Called by an interval join for every pair of a left and a right record with the same key whose
 * timestamps are within the join's bounds, once per pair, when the later-arriving record of the
 * two arrives (so pairs come in arrival order, not timestamp order).
 *
 * ```ts
 * const enrich: ProcessJoinFunction<Click, View, Attributed> = {
 *   processElement(click, view, ctx, out) {
 *     out.collect({ user: click.user, page: view.page, delayMs: ctx.leftTimestamp - ctx.rightTimestamp });
 *   },
 * };
 * ```
 */
export interface ProcessJoinFunction<L, R, O> extends RichFunction {
  processElement(left: L, right: R, ctx: ProcessJoinContext, out: Collector<O>): void;
}

/** A window join's function as an object with a lifecycle: one output record per pair. */
export interface RichJoinFunction<L, R, O> extends RichFunction {
  join(left: L, right: R): O;
}

/**
 * A window join's function: one output record per pair of a left and a right record with the
 * same key in the same window. A plain function or an object with `join` and a lifecycle.
 */
export type JoinFunction<L, R, O> = ((left: L, right: R) => O) | RichJoinFunction<L, R, O>;

/** A window join's function that emits any number of records per pair through `out`. */
export interface FlatJoinFunction<L, R, O> extends RichFunction {
  flatJoin(left: L, right: R, out: Collector<O>): void;
}

/** A coGroup's function as an object with a lifecycle. */
export interface RichCoGroupFunction<L, R, O> extends RichFunction {
  coGroup(lefts: readonly L[], rights: readonly R[], out: Collector<O>): void;
}

/**
 * A coGroup's function: called once per window and key that has at least one record on either
 * side, with all of that window's left and right records of the key (one of the two may be
 * empty), each in the order the window holds them.
 */
export type CoGroupFunction<L, R, O> =
  | ((lefts: readonly L[], rights: readonly R[], out: Collector<O>) => void)
  | RichCoGroupFunction<L, R, O>;
