import type { Key } from "../key.js";
import type { MapStateDescriptor, StateDeclarations } from "../state/descriptors.js";
import type { MapState, StateHandles } from "../state/handles.js";
import type { Collector, OutputTag } from "./collector.js";
import type { RichFunction } from "./runtime-context.js";
import type { TimeDomain, TimerService } from "./timer-service.js";

/** A `map` function as an object with a lifecycle: `class Celsius implements RichMapFunction<Reading, Reading>`. */
export interface RichMapFunction<I, O> extends RichFunction {
  map(value: I): O;
}
export interface RichFilterFunction<I> extends RichFunction {
  filter(value: I): boolean;
}
export interface RichFlatMapFunction<I, O> extends RichFunction {
  flatMap(value: I, out: Collector<O>): void;
}

/** `map`: one record in, one out. A plain function or an object with `map` and a lifecycle. */
export type MapFunction<I, O> = ((value: I) => O) | RichMapFunction<I, O>;
/** `filter`: keeps the records for which it returns true. */
export type FilterFunction<I> = ((value: I) => boolean) | RichFilterFunction<I>;
/** `flatMap`: any number of records out per record in. */
export type FlatMapFunction<I, O> = ((value: I, out: Collector<O>) => void) | RichFlatMapFunction<I, O>;
/** `reduce` on a keyed stream: folds each record into the key's running value. */
export type ReduceFunction<T> = (accumulator: T, value: T) => T;

/** What every process function may do besides emitting to its main output. */
export interface ProcessContext {
  /** The record's timestamp, or undefined when it has none. */
  readonly timestamp: number | undefined;
  /** Emits to a side output; read it with `getSideOutput(tag)` on the resulting stream. */
  output<X>(tag: OutputTag<X>, value: X): void;
  currentProcessingTime(): number;
  currentWatermark(): number;
}

/** A keyed context: the current key, its state and its timers. */
export interface KeyedContext<K extends Key, S extends StateDeclarations> extends ProcessContext {
  readonly key: K;
  readonly state: StateHandles<S>;
  readonly timerService: TimerService;
}

/** The context of `onTimer`: the timer's key (current), its state, and which clock fired it. `timestamp` is the timer's. */
export interface OnTimerContext<K extends Key, S extends StateDeclarations> extends KeyedContext<K, S> {
  readonly timeDomain: TimeDomain;
}

/** A low-level function on a non-keyed stream: records in, records and side outputs out. */
export interface ProcessFunction<I, O> extends RichFunction {
  processElement(value: I, ctx: ProcessContext, out: Collector<O>): void;
}

/** A process function on a keyed stream, with the key's declared state. */
export interface KeyedProcessFunction<K extends Key, I, O, S extends StateDeclarations = Record<never, never>>
  extends RichFunction {
  /** Keyed state this function uses, by name; `ctx.state.<name>` is its handle for the current key. */
  readonly state?: S;
  processElement(value: I, ctx: KeyedContext<K, S>, out: Collector<O>): void;
  /** Called when a timer this key registered fires; the output's timestamp is the timer's. */
  onTimer?(timestamp: number, ctx: OnTimerContext<K, S>, out: Collector<O>): void;
}

/** Two inputs, one output: `map1` for the first stream, `map2` for the second. */
export interface CoMapFunction<I1, I2, O> extends RichFunction {
  map1(value: I1): O;
  map2(value: I2): O;
}
export interface CoFlatMapFunction<I1, I2, O> extends RichFunction {
  flatMap1(value: I1, out: Collector<O>): void;
  flatMap2(value: I2, out: Collector<O>): void;
}
export interface CoProcessFunction<I1, I2, O> extends RichFunction {
  processElement1(value: I1, ctx: ProcessContext, out: Collector<O>): void;
  processElement2(value: I2, ctx: ProcessContext, out: Collector<O>): void;
}
/** A co-process function on two streams keyed alike: both inputs share the key's state. */
export interface KeyedCoProcessFunction<K extends Key, I1, I2, O, S extends StateDeclarations = Record<never, never>>
  extends RichFunction {
  readonly state?: S;
  processElement1(value: I1, ctx: KeyedContext<K, S>, out: Collector<O>): void;
  processElement2(value: I2, ctx: KeyedContext<K, S>, out: Collector<O>): void;
  /** Called when a timer this key registered (from either input) fires. */
  onTimer?(timestamp: number, ctx: OnTimerContext<K, S>, out: Collector<O>): void;
}

/** Broadcast state declarations: named map states replicated to every shard. */
export type BroadcastStateDeclarations = Record<string, MapStateDescriptor<unknown, unknown>>;

/** A map state that the record side may read but not change (the broadcast side owns it). */
export interface ReadOnlyMapState<K, V> {
  get(key: K): V | undefined;
  contains(key: K): boolean;
  entries(): Array<[K, V]>;
  keys(): K[];
  values(): V[];
  isEmpty(): boolean;
}

type BroadcastHandles<B extends BroadcastStateDeclarations> = {
  readonly [N in keyof B]: B[N] extends MapStateDescriptor<infer K, infer V> ? MapState<K, V> : never;
};
type ReadOnlyBroadcastHandles<B extends BroadcastStateDeclarations> = {
  readonly [N in keyof B]: B[N] extends MapStateDescriptor<infer K, infer V> ? ReadOnlyMapState<K, V> : never;
};

/** The record side of a broadcast connection: broadcast state is read-only here. */
export interface ReadOnlyBroadcastContext<B extends BroadcastStateDeclarations> extends ProcessContext {
  readonly broadcastState: ReadOnlyBroadcastHandles<B>;
}
/** The broadcast side: it may change broadcast state; every shard sees the same elements in the same order. */
export interface BroadcastContext<B extends BroadcastStateDeclarations> extends ProcessContext {
  readonly broadcastState: BroadcastHandles<B>;
}

/** The broadcast-state pattern on a non-keyed stream. */
export interface BroadcastProcessFunction<I, BI, O, B extends BroadcastStateDeclarations> extends RichFunction {
  processElement(value: I, ctx: ReadOnlyBroadcastContext<B>, out: Collector<O>): void;
  processBroadcastElement(value: BI, ctx: BroadcastContext<B>, out: Collector<O>): void;
}

/** The broadcast-state pattern on a keyed stream: rules broadcast to every shard, applied per key. */
export interface KeyedBroadcastProcessFunction<
  K extends Key,
  I,
  BI,
  O,
  B extends BroadcastStateDeclarations,
  S extends StateDeclarations = Record<never, never>,
> extends RichFunction {
  readonly state?: S;
  processElement(value: I, ctx: ReadOnlyBroadcastContext<B> & KeyedContext<K, S>, out: Collector<O>): void;
  processBroadcastElement(value: BI, ctx: BroadcastContext<B>, out: Collector<O>): void;
  /** Called when a timer the record side registered for a key fires. */
  onTimer?(timestamp: number, ctx: ReadOnlyBroadcastContext<B> & OnTimerContext<K, S>, out: Collector<O>): void;
}

/** Chooses a shard for a key: must return an integer in [0, numPartitions). */
export type Partitioner<K> = (key: K, numPartitions: number) => number;
