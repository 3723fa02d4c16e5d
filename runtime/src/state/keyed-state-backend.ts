import type {
  AggregatingState,
  Key,
  ListState,
  MapState,
  ReducingState,
  StateDeclarations,
  StateDescriptor,
  StateHandles,
  ValueState,
} from "@keyflow/functions-sdk";
import type { Clock } from "../time/clock.js";
import { StateTable } from "./state-table.js";

/**
 * The keyed state of one operator in one shard: a table per declared state, and the current key
 * that every handle reads and writes. The operator sets the current key before calling the user's
 * function for a record; handles are created once and resolve the key on each call.
 */
export class KeyedStateBackend {
  /** The key of the record or timer being processed. */
  currentKey: Key = "";
  private readonly tables = new Map<string, StateTable<unknown>>();

  constructor(
    readonly maxParallelism: number,
    private readonly clock: Clock,
  ) {}

  /** The handles for a function's declared state, by name. */
  handles<S extends StateDeclarations>(declarations: S): StateHandles<S> {
    const handles: Record<string, unknown> = {};
    for (const [name, descriptor] of Object.entries(declarations)) handles[name] = this.handle(name, descriptor);
    return handles as StateHandles<S>;
  }

  table(name: string, descriptor: StateDescriptor): StateTable<unknown> {
    let table = this.tables.get(name);
    if (table === undefined) {
      table = new StateTable<unknown>(this.clock, descriptor.ttl);
      this.tables.set(name, table);
    }
    return table;
  }

  /** Number of keys with live state in each table (for tests and metrics). */
  sizes(): Record<string, number> {
    const sizes: Record<string, number> = {};
    for (const [name, table] of this.tables) sizes[name] = table.size;
    return sizes;
  }

  private handle(name: string, descriptor: StateDescriptor): unknown {
    const table = this.table(name, descriptor);
    switch (descriptor.kind) {
      case "value":
        return new ValueHandle(this, table, descriptor.defaultValue);
      case "list":
        return new ListHandle(this, table as StateTable<unknown[]>);
      case "map":
        return new MapHandle(this, table as StateTable<Map<unknown, unknown>>);
      case "reducing":
        return new ReducingHandle(this, table, descriptor.reduce);
      case "aggregating":
        return new AggregatingHandle(this, table, descriptor.aggregate);
    }
  }
}

class ValueHandle<T> implements ValueState<T> {
  constructor(
    private readonly backend: KeyedStateBackend,
    private readonly table: StateTable<T>,
    private readonly defaultValue: T | undefined,
  ) {}
  value(): T | undefined {
    const value = this.table.get(this.backend.currentKey);
    return value === undefined ? this.defaultValue : value;
  }
  update(value: T): void {
    if (value === undefined) this.table.delete(this.backend.currentKey);
    else this.table.set(this.backend.currentKey, value);
  }
  clear(): void {
    this.table.delete(this.backend.currentKey);
  }
}

class ListHandle<T> implements ListState<T> {
  constructor(
    private readonly backend: KeyedStateBackend,
    private readonly table: StateTable<T[]>,
  ) {}
  get(): T[] {
    return this.table.get(this.backend.currentKey)?.slice() ?? [];
  }
  add(value: T): void {
    const key = this.backend.currentKey;
    const list = this.table.get(key);
    if (list === undefined) this.table.set(key, [value]);
    else {
      list.push(value);
      this.table.touch(key);
    }
  }
  addAll(values: readonly T[]): void {
    if (values.length === 0) return;
    const key = this.backend.currentKey;
    const list = this.table.get(key);
    if (list === undefined) this.table.set(key, values.slice());
    else {
      for (const value of values) list.push(value);
      this.table.touch(key);
    }
  }
  update(values: readonly T[]): void {
    if (values.length === 0) this.clear();
    else this.table.set(this.backend.currentKey, values.slice());
  }
  clear(): void {
    this.table.delete(this.backend.currentKey);
  }
}

class MapHandle<K, V> implements MapState<K, V> {
  constructor(
    private readonly backend: KeyedStateBackend,
    private readonly table: StateTable<Map<K, V>>,
  ) {}
  private map(): Map<K, V> | undefined {
    return this.table.get(this.backend.currentKey);
  }
  get(key: K): V | undefined {
    return this.map()?.get(key);
  }
  put(key: K, value: V): void {
    const current = this.backend.currentKey;
    const map = this.table.get(current);
    if (map === undefined) this.table.set(current, new Map([[key, value]]));
    else {
      map.set(key, value);
      this.table.touch(current);
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
    this.table.delete(this.backend.currentKey);
  }
}

class ReducingHandle<T> implements ReducingState<T> {
  constructor(
    private readonly backend: KeyedStateBackend,
    private readonly table: StateTable<T>,
    private readonly reduce: (a: T, b: T) => T,
  ) {}
  get(): T | undefined {
    return this.table.get(this.backend.currentKey);
  }
  add(value: T): void {
    const current = this.table.get(this.backend.currentKey);
    this.table.set(this.backend.currentKey, current === undefined ? value : this.reduce(current, value));
  }
  clear(): void {
    this.table.delete(this.backend.currentKey);
  }
}

interface Aggregate<IN, ACC, OUT> {
  createAccumulator(): ACC;
  add(value: IN, accumulator: ACC): ACC;
  getResult(accumulator: ACC): OUT;
}

class AggregatingHandle<IN, ACC, OUT> implements AggregatingState<IN, OUT> {
  constructor(
    private readonly backend: KeyedStateBackend,
    private readonly table: StateTable<ACC>,
    private readonly aggregate: Aggregate<IN, ACC, OUT>,
  ) {}
  get(): OUT | undefined {
    const accumulator = this.table.get(this.backend.currentKey);
    return accumulator === undefined ? undefined : this.aggregate.getResult(accumulator);
  }
  add(value: IN): void {
    const current = this.table.get(this.backend.currentKey);
    const accumulator = current === undefined ? this.aggregate.createAccumulator() : current;
    this.table.set(this.backend.currentKey, this.aggregate.add(value, accumulator));
  }
  clear(): void {
    this.table.delete(this.backend.currentKey);
  }
}
