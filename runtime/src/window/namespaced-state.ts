import type {
  AggregateFunction,
  AggregatingState,
  ListState,
  MapState,
  ReducingState,
  StateDeclarations,
  StateDescriptor,
  StateHandleOf,
  StateHandles,
  ValueState,
} from "@keyflow/functions-sdk";
import type { KeyedStatePart } from "../state/keyed-state-part.js";
import type { ValueCodec } from "../state/state-table.js";
import { WindowTable } from "./window-table.js";

type Accumulating = AggregateFunction<unknown, unknown, unknown>;

/**
 * State per key, window and name: a trigger's `ctx.state(name, descriptor)` and a process
 * window function's `windowState`. Like keyed state handles, which resolve the current key on
 * each call, these handles resolve the store's current key and window (`at`), which the
 * operator sets before it calls user code; so a handle is made once per name, not per call.
 *
 * A window's state goes with the window (`clearWindow` when it is cleaned up), so descriptors'
 * TTL is not applied here.
 *
 * Checkpoints: keyed state named by the store (`state`), one entry per key:
 * `[[windowId, [[name, kind, value], ...]], ...]`, kind 1 for map state (its Map as pairs), 0 else.
 */
export class WindowStateStore {
  private readonly table: WindowTable<Map<string, unknown>>;
  private readonly byName = new Map<string, { readonly descriptor: StateDescriptor; readonly handle: unknown }>();
  /** @internal The current key, as a Map key. */
  mapKey: unknown;
  /** @internal The current window's id. */
  windowId: unknown;

  /** `state`: the snapshot name, "__window/state" (a process window function's) or "__window/trigger". */
  constructor(state = "__window/state") {
    this.table = new WindowTable<Map<string, unknown>>(state);
  }

  /** The store as a part of the operator's keyed state. */
  checkpointed(maxParallelism: number): KeyedStatePart {
    return this.table.checkpointed(maxParallelism, NAMED_VALUES);
  }

  /** Number of (key, window) pairs holding any state. */
  get size(): number {
    return this.table.size;
  }

  /** Makes (key, window) current for every handle of this store. */
  at(mapKey: unknown, windowId: unknown): void {
    this.mapKey = mapKey;
    this.windowId = windowId;
  }

  /** @internal */
  read(name: string): unknown {
    return this.table.get(this.mapKey, this.windowId)?.get(name);
  }

  /** @internal Sets the current window's value of `name`; undefined removes it. */
  write(name: string, value: unknown): void {
    let values = this.table.get(this.mapKey, this.windowId);
    if (value === undefined) {
      if (values === undefined) return;
      this.table.touch(this.mapKey);
      values.delete(name);
      if (values.size === 0) this.table.delete(this.mapKey, this.windowId);
      return;
    }
    if (values === undefined) {
      values = new Map();
      this.table.set(this.mapKey, this.windowId, values);
    } else this.table.touch(this.mapKey);
    values.set(name, value);
  }

  /** @internal The current window's value was changed in place (a list add, a map put). */
  touch(): void {
    this.table.touch(this.mapKey);
  }

  /** Drops every state of one (key, window). */
  clearWindow(mapKey: unknown, windowId: unknown): void {
    this.table.delete(mapKey, windowId);
  }

  /** The handle of `name` (made on first use; a different descriptor for the name makes a new one). */
  handle<D extends StateDescriptor>(name: string, descriptor: D): StateHandleOf<D> {
    const cached = this.byName.get(name);
    if (cached !== undefined && cached.descriptor === descriptor) return cached.handle as StateHandleOf<D>;
    const handle = this.makeHandle(name, descriptor);
    this.byName.set(name, { descriptor, handle });
    return handle as StateHandleOf<D>;
  }

  handles<S extends StateDeclarations>(declarations: S): StateHandles<S> {
    const handles: Record<string, unknown> = {};
    for (const [name, descriptor] of Object.entries(declarations)) handles[name] = this.handle(name, descriptor);
    return handles as StateHandles<S>;
  }

  /**
   * Merges the value of `name` in the windows `sources` of a key into `target` (windows merged
   * by a merging assigner), as Flink's merging state does: the sources are folded in order and
   * removed, then folded after the target's own value. Reducing, aggregating (with `merge`) and
   * list state merge; other kinds throw.
   */
  merge(
    name: string,
    descriptor: StateDescriptor,
    mapKey: unknown,
    target: unknown,
    sources: readonly unknown[],
  ): void {
    const combine = combinerOf(name, descriptor);
    const savedKey = this.mapKey;
    const savedWindow = this.windowId;
    try {
      let merged: unknown;
      for (const source of sources) {
        if (source === target) continue;
        this.at(mapKey, source);
        const value = this.read(name);
        if (value === undefined) continue;
        this.write(name, undefined);
        merged = merged === undefined ? value : combine(merged, value);
      }
      if (merged === undefined) return;
      this.at(mapKey, target);
      const current = this.read(name);
      this.write(name, current === undefined ? merged : combine(current, merged));
    } finally {
      this.at(savedKey, savedWindow);
    }
  }

  private makeHandle(name: string, descriptor: StateDescriptor): unknown {
    switch (descriptor.kind) {
      case "value":
        return new WindowValueState(this, name, descriptor.defaultValue);
      case "list":
        return new WindowListState(this, name);
      case "map":
        return new WindowMapState(this, name);
      case "reducing":
        return new WindowReducingState(this, name, descriptor.reduce);
      case "aggregating":
        return new WindowAggregatingState(this, name, descriptor.aggregate as Accumulating);
    }
  }
}

/** A window's named values in a snapshot: [name, 1, pairs] for a Map (map state), [name, 0, value] otherwise. */
const NAMED_VALUES: ValueCodec = {
  encode: (values) =>
    Array.from(values as Map<string, unknown>, ([name, value]) =>
      value instanceof Map ? [name, 1, Array.from(value)] : [name, 0, value],
    ),
  decode: (encoded) =>
    new Map(
      (encoded as Array<[string, number, unknown]>).map(([name, kind, value]) => [
        name,
        kind === 1 ? new Map(value as Array<[unknown, unknown]>) : value,
      ]),
    ),
};

function combinerOf(name: string, descriptor: StateDescriptor): (a: unknown, b: unknown) => unknown {
  switch (descriptor.kind) {
    case "reducing":
      return descriptor.reduce as (a: unknown, b: unknown) => unknown;
    case "aggregating": {
      const aggregate = descriptor.aggregate as Accumulating;
      const merge = aggregate.merge;
      if (merge === undefined) {
        throw new TypeError(`aggregating state "${name}" cannot be merged: its AggregateFunction has no merge`);
      }
      return (a, b) => merge.call(aggregate, a, b);
    }
    case "list":
      return (a, b) => (a as unknown[]).concat(b as unknown[]);
    default:
      throw new TypeError(
        `state "${name}" is ${descriptor.kind} state, which cannot be merged (reducing, aggregating and list state can)`,
      );
  }
}

class WindowValueState<T> implements ValueState<T> {
  constructor(
    private readonly store: WindowStateStore,
    private readonly name: string,
    private readonly defaultValue: T | undefined,
  ) {}
  value(): T | undefined {
    const value = this.store.read(this.name) as T | undefined;
    return value === undefined ? this.defaultValue : value;
  }
  update(value: T): void {
    this.store.write(this.name, value);
  }
  clear(): void {
    this.store.write(this.name, undefined);
  }
}

class WindowListState<T> implements ListState<T> {
  constructor(
    private readonly store: WindowStateStore,
    private readonly name: string,
  ) {}
  get(): T[] {
    return (this.store.read(this.name) as T[] | undefined)?.slice() ?? [];
  }
  add(value: T): void {
    const list = this.store.read(this.name) as T[] | undefined;
    if (list === undefined) this.store.write(this.name, [value]);
    else {
      list.push(value);
      this.store.touch();
    }
  }
  addAll(values: readonly T[]): void {
    if (values.length === 0) return;
    const list = this.store.read(this.name) as T[] | undefined;
    if (list === undefined) this.store.write(this.name, values.slice());
    else {
      for (const value of values) list.push(value);
      this.store.touch();
    }
  }
  update(values: readonly T[]): void {
    this.store.write(this.name, values.length === 0 ? undefined : values.slice());
  }
  clear(): void {
    this.store.write(this.name, undefined);
  }
}

class WindowMapState<K, V> implements MapState<K, V> {
  constructor(
    private readonly store: WindowStateStore,
    private readonly name: string,
  ) {}
  private map(): Map<K, V> | undefined {
    return this.store.read(this.name) as Map<K, V> | undefined;
  }
  get(key: K): V | undefined {
    return this.map()?.get(key);
  }
  put(key: K, value: V): void {
    const map = this.map();
    if (map === undefined) this.store.write(this.name, new Map([[key, value]]));
    else {
      map.set(key, value);
      this.store.touch();
    }
  }
  putAll(entries: Iterable<readonly [K, V]>): void {
    for (const [key, value] of entries) this.put(key, value);
  }
  remove(key: K): void {
    const map = this.map();
    if (map === undefined) return;
    map.delete(key);
    if (map.size === 0) this.clear();
    else this.store.touch();
  }
  contains(key: K): boolean {
    return this.map()?.has(key) ?? false;
  }
  entries(): Array<[K, V]> {
    return Array.from(this.map() ?? []);
  }
  keys(): K[] {
    return Array.from(this.map()?.keys() ?? []);
  }
  values(): V[] {
    return Array.from(this.map()?.values() ?? []);
  }
  isEmpty(): boolean {
    return (this.map()?.size ?? 0) === 0;
  }
  clear(): void {
    this.store.write(this.name, undefined);
  }
}

class WindowReducingState<T> implements ReducingState<T> {
  constructor(
    private readonly store: WindowStateStore,
    private readonly name: string,
    private readonly reduce: (a: T, b: T) => T,
  ) {}
  get(): T | undefined {
    return this.store.read(this.name) as T | undefined;
  }
  add(value: T): void {
    const current = this.store.read(this.name) as T | undefined;
    this.store.write(this.name, current === undefined ? value : this.reduce(current, value));
  }
  clear(): void {
    this.store.write(this.name, undefined);
  }
}

class WindowAggregatingState<IN, OUT> implements AggregatingState<IN, OUT> {
  constructor(
    private readonly store: WindowStateStore,
    private readonly name: string,
    private readonly aggregate: Accumulating,
  ) {}
  get(): OUT | undefined {
    const accumulator = this.store.read(this.name);
    return accumulator === undefined ? undefined : (this.aggregate.getResult(accumulator) as OUT);
  }
  add(value: IN): void {
    const current = this.store.read(this.name);
    const accumulator = current === undefined ? this.aggregate.createAccumulator() : current;
    this.store.write(this.name, this.aggregate.add(value, accumulator));
  }
  clear(): void {
    this.store.write(this.name, undefined);
  }
}
