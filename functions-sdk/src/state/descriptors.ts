import type { StateTtl } from "./ttl.js";

/** Folds values of one type into an accumulator and reads a result out of it. */
export interface AggregateFunction<IN, ACC, OUT> {
  createAccumulator(): ACC;
  add(value: IN, accumulator: ACC): ACC;
  getResult(accumulator: ACC): OUT;
  merge?(a: ACC, b: ACC): ACC;
}

interface DescriptorBase {
  readonly ttl?: StateTtl;
}

/** One value per key. */
export interface ValueStateDescriptor<T> extends DescriptorBase {
  readonly kind: "value";
  readonly defaultValue?: T;
}
/** A list per key. */
export interface ListStateDescriptor<T> extends DescriptorBase {
  readonly kind: "list";
  /** Phantom: the element type. */
  readonly __type?: T;
}
/** A map per key. */
export interface MapStateDescriptor<K, V> extends DescriptorBase {
  readonly kind: "map";
  readonly __type?: [K, V];
}
/** A value per key folded with `reduce` on every add. */
export interface ReducingStateDescriptor<T> extends DescriptorBase {
  readonly kind: "reducing";
  readonly reduce: (a: T, b: T) => T;
}
/** An accumulator per key; `get()` returns the aggregate's result. */
export interface AggregatingStateDescriptor<IN, ACC, OUT> extends DescriptorBase {
  readonly kind: "aggregating";
  readonly aggregate: AggregateFunction<IN, ACC, OUT>;
}

export type StateDescriptor =
  | ValueStateDescriptor<unknown>
  | ListStateDescriptor<unknown>
  | MapStateDescriptor<unknown, unknown>
  // biome-ignore lint/suspicious/noExplicitAny: `reduce` takes its values as parameters, so a typed descriptor is not a ReducingStateDescriptor<unknown>
  | ReducingStateDescriptor<any>
  // biome-ignore lint/suspicious/noExplicitAny: the accumulator type is private to each descriptor
  | AggregatingStateDescriptor<any, any, any>;

/** The state a function declares: a name for each descriptor. The name is the state's id in snapshots. */
export type StateDeclarations = Record<string, StateDescriptor>;

export function valueState<T>(options: { defaultValue?: T; ttl?: StateTtl } = {}): ValueStateDescriptor<T> {
  checkTtl(options.ttl);
  return { kind: "value", ...options };
}
export function listState<T>(options: { ttl?: StateTtl } = {}): ListStateDescriptor<T> {
  checkTtl(options.ttl);
  return { kind: "list", ...options };
}
export function mapState<K, V>(options: { ttl?: StateTtl } = {}): MapStateDescriptor<K, V> {
  checkTtl(options.ttl);
  return { kind: "map", ...options };
}
export function reducingState<T>(
  reduce: (a: T, b: T) => T,
  options: { ttl?: StateTtl } = {},
): ReducingStateDescriptor<T> {
  checkTtl(options.ttl);
  return { kind: "reducing", reduce, ...options };
}
export function aggregatingState<IN, ACC, OUT>(
  aggregate: AggregateFunction<IN, ACC, OUT>,
  options: { ttl?: StateTtl } = {},
): AggregatingStateDescriptor<IN, ACC, OUT> {
  checkTtl(options.ttl);
  return { kind: "aggregating", aggregate, ...options };
}

function checkTtl(ttl: StateTtl | undefined): void {
  if (ttl !== undefined && !(ttl.ttlMs > 0)) {
    throw new RangeError(`state ttl must be a positive number of milliseconds, got ${ttl.ttlMs}`);
  }
}
