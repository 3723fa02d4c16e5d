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
      table = new StateTable<unknown>(this.maxParallelism, this.clock, descriptor.ttl);
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
    const entry = this.table.get(this.backend.currentKey);
    return entry === undefined ? this.defaultValue : entry.value;
  }
  update(value: T): void {
    this.table.put(this.backend.currentKey, value);
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
    const entry = this.table.get(this.backend.currentKey);
    return entry === undefined ? [] : entry.value.slice();
  }
  add(value: T): void {
    const entry = this.table.get(this.backend.currentKey);
    if (entry === undefined) this.table.put(this.backend.currentKey, [value]);
    else {
      entry.value.push(value);
      this.table.touch(entry);
    }
  }
  addAll(values: readonly T[]): void {
    if (values.length === 0) return;
    const entry = this.table.get(this.backend.currentKey);
    if (entry === undefined) this.table.put(this.backend.currentKey, values.slice());
    else {
      entry.value.push(...values);
      this.table.touch(entry);
    }
  }
  update(values: readonly T[]): void {
    if (values.length === 0) this.clear();
    else this.table.put(this.backend.currentKey, values.slice());
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
    return this.table.get(this.backend.currentKey)?.value;
  }
  get(key: K): V | undefined {
    return this.map()?.get(key);
  }
  put(key: K, value: V): void {
    const entry = this.table.get(this.backend.currentKey);
    if (entry === undefined) this.table.put(this.backend.currentKey, new Map([[key, value]]));
    else {
      entry.value.set(key, value);
      this.table.touch(entry);
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
    return this.table.get(this.backend.currentKey)?.value;
  }
  add(value: T): void {
    const entry = this.table.get(this.backend.currentKey);
    this.table.put(this.backend.currentKey, entry === undefined ? value : this.reduce(entry.value, value));
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
    const entry = this.table.get(this.backend.currentKey);
    return entry === undefined ? undefined : this.aggregate.getResult(entry.value);
  }
  add(value: IN): void {
    const entry = this.table.get(this.backend.currentKey);
    const accumulator = entry === undefined ? this.aggregate.createAccumulator() : entry.value;
    this.table.put(this.backend.currentKey, this.aggregate.add(value, accumulator));
  }
  clear(): void {
    this.table.delete(this.backend.currentKey);
  }
}
