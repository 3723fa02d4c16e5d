import type {
  AggregateFunction,
  EvictorContext,
  Key,
  ProcessWindowFunction,
  StateDeclarations,
  TimestampedValue,
  Window,
  WindowSpec,
} from "@keyflow/functions-sdk";
import type { OperatorContext } from "../operator/operator.js";
import { TimestampedCollector } from "../operator/timestamped-collector.js";
import { KeyedStateBackend } from "../state/keyed-state-backend.js";
import type { KeyedStatePart } from "../state/keyed-state-part.js";
import { WindowStateStore } from "./namespaced-state.js";
import { type WindowClocks, WindowProcessContext } from "./process-window-context.js";

type Aggregate = AggregateFunction<unknown, unknown, unknown>;
type ProcessFn = ProcessWindowFunction<unknown, unknown, Key, Window, StateDeclarations, StateDeclarations>;
type Evictor = NonNullable<WindowSpec["evictor"]>;

/**
 * What a window holds between firings:
 * - "reduce": the records reduced so far (Flink's ReducingState);
 * - "aggregate": the accumulator (AggregatingState);
 * - "list": every record (a process window function without pre-aggregation);
 * - "evicting": every record with its timestamp (any window with an evictor: the function runs
 *   over what the evictor leaves, at firing time).
 */
export type ContentsMode = "reduce" | "aggregate" | "list" | "evicting";

/**
 * The window function of one window operator: how a record goes into a window's contents, how
 * contents merge, what a firing emits (directly, or through the process window function with
 * its context and state), and what clearing a window does to the function's per-window state.
 * Exceptions from user code propagate; the operator names them.
 */
export class WindowFunctionRunner {
  readonly mode: ContentsMode;
  readonly reduce: ((a: unknown, b: unknown) => unknown) | undefined;
  readonly aggregate: Aggregate | undefined;
  readonly process: ProcessFn | undefined;
  readonly evictor: Evictor | undefined;
  /** Per key and window state of the process window function (`windowState`). */
  readonly windowStore = new WindowStateStore();
  /** Per key state of the process window function (`globalState`). */
  readonly globalBackend: KeyedStateBackend;
  readonly ctx: WindowProcessContext;
  private readonly collector: TimestampedCollector;
  private readonly evictorContext: EvictorContext;

  constructor(
    private readonly context: OperatorContext,
    spec: WindowSpec,
    clocks: WindowClocks,
  ) {
    const fn = spec.function;
    this.reduce = fn.kind === "reduce" ? fn.reduce : undefined;
    this.aggregate = fn.kind === "aggregate" ? fn.aggregate : undefined;
    this.process = fn.process as ProcessFn | undefined;
    this.evictor = spec.evictor;
    this.mode = spec.evictor !== undefined ? "evicting" : fn.kind === "process" ? "list" : fn.kind;
    this.globalBackend = new KeyedStateBackend(context.runtime.maxParallelism, context.clock);
    this.ctx = new WindowProcessContext(
      context.output,
      clocks,
      this.windowStore.handles(this.process?.windowState ?? {}),
      this.globalBackend.handles(this.process?.globalState ?? {}),
    );
    this.collector = new TimestampedCollector(context.output);
    this.evictorContext = {
      currentWatermark: () => clocks.currentWatermark,
      currentProcessingTime: () => clocks.currentProcessingTime(),
    };
  }

  /** The process window function's state as parts of the operator's keyed state. */
  checkpointed(): KeyedStatePart[] {
    return [this.windowStore.checkpointed(this.context.runtime.maxParallelism), this.globalBackend];
  }

  /** The user functions, for open and close. */
  functions(): readonly unknown[] {
    return [this.reduce, this.aggregate, this.process];
  }

  /** Contents after adding a record (`current` undefined: the window is empty). */
  add(current: unknown, value: unknown, timestamp: number): unknown {
    switch (this.mode) {
      case "reduce":
        return current === undefined ? value : (this.reduce as (a: unknown, b: unknown) => unknown)(current, value);
      case "aggregate": {
        const aggregate = this.aggregate as Aggregate;
        return aggregate.add(value, current === undefined ? aggregate.createAccumulator() : current);
      }
      case "list":
        if (current === undefined) return [value];
        (current as unknown[]).push(value);
        return current;
      case "evicting": {
        const element: TimestampedValue<unknown> = { value, timestamp };
        if (current === undefined) return [element];
        (current as TimestampedValue<unknown>[]).push(element);
        return current;
      }
    }
  }

  /** Contents of two merged windows: `target`'s first (checked at open: an aggregate here has `merge`). */
  merge(target: unknown, source: unknown): unknown {
    switch (this.mode) {
      case "reduce":
        return (this.reduce as (a: unknown, b: unknown) => unknown)(target, source);
      case "aggregate": {
        const aggregate = this.aggregate as Aggregate;
        return (aggregate.merge as (a: unknown, b: unknown) => unknown).call(aggregate, target, source);
      }
      case "list":
      case "evicting":
        for (const element of source as unknown[]) (target as unknown[]).push(element);
        return target;
    }
  }

  /**
   * Emits a firing of `window` (of `key`) with its contents; returns the contents to keep
   * (changed only by an evictor; undefined when it left nothing). Results carry the window's
   * max timestamp.
   */
  fire(key: Key, mapKey: unknown, window: Window, windowId: unknown, contents: unknown): unknown {
    this.collector.ts = window.maxTimestamp();
    switch (this.mode) {
      case "reduce":
        this.emit(key, mapKey, window, windowId, contents);
        return contents;
      case "aggregate":
        this.emit(key, mapKey, window, windowId, (this.aggregate as Aggregate).getResult(contents));
        return contents;
      case "list":
        // A copy: the window's list grows after this firing, and the function may keep or emit what it got.
        this.at(key, mapKey, window, windowId);
        (this.process as ProcessFn).process(key, this.ctx, (contents as unknown[]).slice(), this.collector);
        return contents;
      case "evicting":
        return this.fireEvicting(key, mapKey, window, windowId, contents as TimestampedValue<unknown>[]);
    }
  }

  /**
   * The window is being cleaned up: the process window function's `clear` runs with the
   * window's context, then its per-window state is dropped.
   */
  clear(key: Key, mapKey: unknown, window: Window, windowId: unknown): void {
    const process = this.process;
    if (process?.clear !== undefined) {
      this.at(key, mapKey, window, windowId);
      process.clear(this.ctx);
    }
    this.windowStore.clearWindow(mapKey, windowId);
  }

  /**
   * Flink's EvictingWindowOperator: evict before, run the function over the remaining records
   * (a reduce or aggregate runs here, over them, not incrementally), evict after, keep the rest.
   */
  private fireEvicting(
    key: Key,
    mapKey: unknown,
    window: Window,
    windowId: unknown,
    elements: TimestampedValue<unknown>[],
  ): TimestampedValue<unknown>[] | undefined {
    const evictor = this.evictor as Evictor;
    evictor.evictBefore?.(elements, window, this.evictorContext);
    const values = elements.map((element) => element.value);
    if (this.reduce !== undefined) {
      // Flink would hand a reduce over no records a null; nothing is emitted instead.
      if (values.length > 0) {
        const reduce = this.reduce;
        let result = values[0];
        for (let i = 1; i < values.length; i++) result = reduce(result, values[i]);
        this.emit(key, mapKey, window, windowId, result);
      }
    } else if (this.aggregate !== undefined) {
      const aggregate = this.aggregate;
      let accumulator = aggregate.createAccumulator();
      for (const value of values) accumulator = aggregate.add(value, accumulator);
      this.emit(key, mapKey, window, windowId, aggregate.getResult(accumulator));
    } else {
      this.at(key, mapKey, window, windowId);
      (this.process as ProcessFn).process(key, this.ctx, values, this.collector);
    }
    evictor.evictAfter?.(elements, window, this.evictorContext);
    return elements.length === 0 ? undefined : elements;
  }

  /** Emits one pre-aggregated result: to the output, or through the process window function. */
  private emit(key: Key, mapKey: unknown, window: Window, windowId: unknown, result: unknown): void {
    const process = this.process;
    if (process === undefined) {
      this.context.output.collect(result, this.collector.ts);
      return;
    }
    this.at(key, mapKey, window, windowId);
    process.process(key, this.ctx, [result], this.collector);
  }

  /** Points the process context and both state stores at (key, window). */
  private at(key: Key, mapKey: unknown, window: Window, windowId: unknown): void {
    this.ctx.window = window;
    this.windowStore.at(mapKey, windowId);
    this.globalBackend.currentKey = key;
  }
}
