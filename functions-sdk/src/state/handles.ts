import type {
  AggregatingStateDescriptor,
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  StateDeclarations,
  ValueStateDescriptor,
} from "./descriptors.js";

/**
 * State handles read and write the state of the current key: the key of the record or timer
 * being processed. All calls are synchronous; the runtime keeps keyed state in memory per key
 * group and tracks what changed for the next checkpoint.
 */
export interface ValueState<T> {
  /** The key's value, or the descriptor's default (or undefined) when there is none. */
  value(): T | undefined;
  update(value: T): void;
  clear(): void;
}

export interface ListState<T> {
  /** A copy of the key's list (empty when there is none). */
  get(): T[];
  add(value: T): void;
  addAll(values: readonly T[]): void;
  update(values: readonly T[]): void;
  clear(): void;
}

export interface MapState<K, V> {
  get(key: K): V | undefined;
  put(key: K, value: V): void;
  putAll(entries: Iterable<readonly [K, V]>): void;
  remove(key: K): void;
  contains(key: K): boolean;
  entries(): Array<[K, V]>;
  keys(): K[];
  values(): V[];
  isEmpty(): boolean;
  clear(): void;
}

export interface ReducingState<T> {
  get(): T | undefined;
  add(value: T): void;
  clear(): void;
}

export interface AggregatingState<IN, OUT> {
  get(): OUT | undefined;
  add(value: IN): void;
  clear(): void;
}

/** The handle type a descriptor gives. */
export type StateHandleOf<D> =
  D extends ValueStateDescriptor<infer T>
    ? ValueState<T>
    : D extends ListStateDescriptor<infer T>
      ? ListState<T>
      : D extends MapStateDescriptor<infer K, infer V>
        ? MapState<K, V>
        : D extends ReducingStateDescriptor<infer T>
          ? ReducingState<T>
          : D extends AggregatingStateDescriptor<infer IN, infer _ACC, infer OUT>
            ? AggregatingState<IN, OUT>
            : never;

/** `ctx.state` of a function that declared `S`: one handle per declared name. */
export type StateHandles<S extends StateDeclarations> = { readonly [N in keyof S]: StateHandleOf<S[N]> };
