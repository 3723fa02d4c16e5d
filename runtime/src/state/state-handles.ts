import type { AggregatingState, Key, ListState, MapState, ReducingState, ValueState } from "@keyflow/functions-sdk";
import type { StateTable } from "./state-table.js";

/** The key every handle of one backend reads and writes: the key of the record or timer being processed. */
export interface CurrentKey {
  currentKey: Key;
}

/*
 * The handles of keyed state: each resolves the current key on every call, so one handle per
 * declared state serves every key. Handles that change a value in place (a list add, a map put)
 * `touch` the key afterwards, so the change goes into the next incremental checkpoint; a read
 * that hands out a value lets the table preserve it first while a snapshot is being read.
 */

export class ValueHandle<T> implements ValueState<T> {
  constructor(
    private readonly backend: CurrentKey,
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

export class ListHandle<T> implements ListState<T> {
  constructor(
    private readonly backend: CurrentKey,
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

export class MapHandle<K, V> implements MapState<K, V> {
  constructor(
    private readonly backend: CurrentKey,
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
    else this.table.touch(this.backend.currentKey);
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

export class ReducingHandle<T> implements ReducingState<T> {
  constructor(
    private readonly backend: CurrentKey,
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

export class AggregatingHandle<IN, ACC, OUT> implements AggregatingState<IN, OUT> {
  constructor(
    private readonly backend: CurrentKey,
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
