import type { OutputTag } from "../function/collector.js";
import type { ReduceFunction } from "../function/functions.js";
import type { Key } from "../key.js";
import type { AggregateFunction, StateDeclarations } from "../state/descriptors.js";
import type { WindowAssigner } from "../window/assigner.js";
import type { Evictor } from "../window/evictor.js";
import type { Trigger } from "../window/trigger.js";
import type { Window } from "../window/window.js";
import type { ProcessWindowFunction } from "../window/window-functions.js";
import { type NumericField, OperatorStream } from "./data-stream.js";
import { fieldCopier } from "./field-copy.js";
import type { EdgeSpec, WindowFunctionSpec } from "./graph.js";
import type { GraphBuilder } from "./graph-builder.js";

/**
 * A keyed stream cut into windows. Configure it (trigger, evictor, allowed lateness, late-data
 * side output), then give the function a firing computes; that adds the window operator.
 *
 * ```ts
 * readings
 *   .keyBy((r) => r.id)
 *   .window(tumblingEventTimeWindows(1_000))
 *   .aggregate(averageTemperature)
 * ```
 */
export class WindowedStream<T, K extends Key, W extends Window> {
  private triggerFn: Trigger<T, W> | undefined;
  private evictorFn: Evictor<T, W> | undefined;
  private latenessMs = 0;
  private lateTag: string | undefined;

  /** @internal */
  constructor(
    private readonly builder: GraphBuilder,
    private readonly edges: EdgeSpec[],
    private readonly assigner: WindowAssigner<T, W>,
  ) {}

  /** Replaces the assigner's default trigger. */
  trigger(trigger: Trigger<T, W>): this {
    this.triggerFn = trigger;
    return this;
  }

  /** Removes records from a window before or after its function runs (keeps every record: no incremental aggregation). */
  evictor(evictor: Evictor<T, W>): this {
    this.evictorFn = evictor;
    return this;
  }

  /**
   * Keeps windows `lateness` ms of event time past their end: a late record within it updates the
   * window and fires it again. 0 (the default) drops records once their window's end has passed.
   */
  allowedLateness(latenessMs: number): this {
    if (!(Number.isFinite(latenessMs) && latenessMs >= 0)) {
      throw new RangeError(`allowed lateness must be zero or more milliseconds, got ${latenessMs}`);
    }
    this.latenessMs = latenessMs;
    return this;
  }

  /** Sends records that are too late for every window they belong to to this side output instead of dropping them. */
  sideOutputLateData(tag: OutputTag<T>): this {
    this.lateTag = tag.id;
    return this;
  }

  /** Folds each window's records incrementally; emits the folded record, or hands it to `process`. */
  reduce(reduce: ReduceFunction<T>): OperatorStream<T>;
  reduce<R, WS extends StateDeclarations = Record<never, never>, GS extends StateDeclarations = Record<never, never>>(
    reduce: ReduceFunction<T>,
    process: ProcessWindowFunction<T, R, K, W, WS, GS>,
  ): OperatorStream<R>;
  reduce<R>(reduce: ReduceFunction<T>, process?: ProcessWindowFunction<T, R, K, W>): OperatorStream<T | R> {
    return this.add({ kind: "reduce", reduce, process }, "Window(Reduce)");
  }

  /** Aggregates each window's records incrementally into an accumulator; emits its result, or hands it to `process`. */
  aggregate<ACC, V>(aggregate: AggregateFunction<T, ACC, V>): OperatorStream<V>;
  aggregate<
    ACC,
    V,
    R,
    WS extends StateDeclarations = Record<never, never>,
    GS extends StateDeclarations = Record<never, never>,
  >(aggregate: AggregateFunction<T, ACC, V>, process: ProcessWindowFunction<V, R, K, W, WS, GS>): OperatorStream<R>;
  aggregate<ACC, V, R>(
    aggregate: AggregateFunction<T, ACC, V>,
    process?: ProcessWindowFunction<V, R, K, W>,
  ): OperatorStream<V | R> {
    return this.add(
      { kind: "aggregate", aggregate: aggregate as AggregateFunction<unknown, unknown, unknown>, process },
      "Window(Aggregate)",
    );
  }

  /** Calls `process` with all of a window's records when it fires. */
  process<R, WS extends StateDeclarations = Record<never, never>, GS extends StateDeclarations = Record<never, never>>(
    process: ProcessWindowFunction<T, R, K, W, WS, GS>,
  ): OperatorStream<R> {
    return this.add({ kind: "process", process }, "Window(Process)");
  }

  /** Sum of a field per window (other fields from the window's first record). */
  sum(field: NumericField<T>): OperatorStream<T> {
    const copy = fieldCopier(field);
    return this.reduce((a, b) => copy(a, (a[field] as number) + (b[field] as number)) as T);
  }
  min(field: NumericField<T>): OperatorStream<T> {
    const copy = fieldCopier(field);
    return this.reduce((a, b) =>
      (b[field] as number) < (a[field] as number) ? (copy(a, b[field] as number) as T) : a,
    );
  }
  max(field: NumericField<T>): OperatorStream<T> {
    const copy = fieldCopier(field);
    return this.reduce((a, b) =>
      (b[field] as number) > (a[field] as number) ? (copy(a, b[field] as number) as T) : a,
    );
  }
  /** The record with the smallest `field` per window (the first on ties). */
  minBy(field: NumericField<T>): OperatorStream<T> {
    return this.reduce((a, b) => ((b[field] as number) < (a[field] as number) ? b : a));
  }
  maxBy(field: NumericField<T>): OperatorStream<T> {
    return this.reduce((a, b) => ((b[field] as number) > (a[field] as number) ? b : a));
  }

  private add<R>(fn: WindowFunctionSpec, name: string): OperatorStream<R> {
    const node = this.builder.add(
      {
        kind: "window",
        window: {
          assigner: this.assigner as WindowAssigner<unknown, Window>,
          trigger: this.triggerFn as Trigger<unknown, Window> | undefined,
          evictor: this.evictorFn as Evictor<unknown, Window> | undefined,
          allowedLatenessMs: this.latenessMs,
          lateDataTag: this.lateTag,
          function: fn,
        },
      },
      this.edges,
      name,
    );
    return new OperatorStream<R>(this.builder, node);
  }
}
