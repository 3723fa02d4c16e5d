import type { AggregatingState, Key, ListState, MapState, ReducingState, ValueState } from "@keyflow/functions-sdk";
import type { StateTable } from "./state-table.js";

/** The key every handle of one backend reads and writes: the key of the record or timer being processed. */
export interface CurrentKey {
  currentKey: Key;
}

/**
 * Where a handle finds its value: one key's value in a state table (keyed state), or one named
 * value of one window (per-window state). `write(undefined)` removes the value; `touch` says it
 * was changed in place (a list add, a map put), so a checkpoint takes it and its TTL restarts.
 */
export interface StateCell<T> {
  read(): T | undefined;
  write(value: T | undefined): void;
  touch(): void;
}

/** The value of the key being processed in one state table. */
export class TableCell<T> implements StateCell<T> {
  constructor(
    private readonly backend: CurrentKey,
    private readonly table: StateTable<T>,
  ) {}
  read(): T | undefined {
    return this.table.get(this.backend.currentKey);
  }
  write(value: T | undefined): void {
    if (value === undefined) this.table.delete(this.backend.currentKey);
    else this.table.set(this.backend.currentKey, value);
  }
  touch(): void {
    this.table.touch(this.backend.currentKey);
  }
}

/*
 * The handles of state, over a cell: each reads its cell on every call, so one handle per
 * declared state serves every key (and every window). Handles that change a value in place (a
 * list add, a map put) touch the cell afterwards; a read that hands out a value lets the table
 * preserve it first while a snapshot is being read.
 */

export class ValueHandle<T> implements ValueState<T> {
  constructor(
    private readonly cell: StateCell<T>,
    private readonly defaultValue: T | undefined,
  ) {}
  value(): T | undefined {
    const value = this.cell.read();
    return value === undefined ? this.defaultValue : value;
  }
  update(value: T): void {
    this.cell.write(value);
  }
  clear(): void {
    this.cell.write(undefined);
  }
}

export class ListHandle<T> implements ListState<T> {
  constructor(private readonly cell: StateCell<T[]>) {}
  get(): T[] {
    return this.cell.read()?.slice() ?? [];
  }
  add(value: T): void {
    const list = this.cell.read();
    if (list === undefined) this.cell.write([value]);
    else {
      list.push(value);
      this.cell.touch();
    }
  }
  addAll(values: readonly T[]): void {
    if (values.length === 0) return;
    const list = this.cell.read();
    if (list === undefined) this.cell.write(values.slice());
    else {
      for (const value of values) list.push(value);
      this.cell.touch();
    }
  }
  update(values: readonly T[]): void {
    this.cell.write(values.length === 0 ? undefined : values.slice());
  }
  clear(): void {
    this.cell.write(undefined);
  }
}

export class MapHandle<K, V> implements MapState<K, V> {
  constructor(private readonly cell: StateCell<Map<K, V>>) {}
  get(key: K): V | undefined {
    return this.cell.read()?.get(key);
  }
  put(key: K, value: V): void {
    const map = this.cell.read();
    if (map === undefined) this.cell.write(new Map([[key, value]]));
    else {
      map.set(key, value);
      this.cell.touch();
    }
  }
  putAll(entries: Iterable<readonly [K, V]>): void {
    for (const [key, value] of entries) this.put(key, value);
  }
  remove(key: K): void {
    const map = this.cell.read();
    if (map === undefined) return;
    map.delete(key);
    if (map.size === 0) this.clear();
    else this.cell.touch();
  }
  contains(key: K): boolean {
    return this.cell.read()?.has(key) ?? false;
  }
  entries(): Array<[K, V]> {
    return Array.from(this.cell.read() ?? []);
  }
  keys(): K[] {
    return Array.from(this.cell.read()?.keys() ?? []);
  }
  values(): V[] {
    return Array.from(this.cell.read()?.values() ?? []);
  }
  isEmpty(): boolean {
    return (this.cell.read()?.size ?? 0) === 0;
  }
  clear(): void {
    this.cell.write(undefined);
  }
}

export class ReducingHandle<T> implements ReducingState<T> {
  constructor(
    private readonly cell: StateCell<T>,
    private readonly reduce: (a: T, b: T) => T,
  ) {}
  get(): T | undefined {
    return this.cell.read();
  }
  add(value: T): void {
    const current = this.cell.read();
    this.cell.write(current === undefined ? value : this.reduce(current, value));
  }
  clear(): void {
    this.cell.write(undefined);
  }
}

interface Aggregate<IN, ACC, OUT> {
  createAccumulator(): ACC;
  add(value: IN, accumulator: ACC): ACC;
  getResult(accumulator: ACC): OUT;
}

export class AggregatingHandle<IN, ACC, OUT> implements AggregatingState<IN, OUT> {
  constructor(
    private readonly cell: StateCell<ACC>,
    private readonly aggregate: Aggregate<IN, ACC, OUT>,
  ) {}
  get(): OUT | undefined {
    const accumulator = this.cell.read();
    return accumulator === undefined ? undefined : this.aggregate.getResult(accumulator);
  }
  add(value: IN): void {
    const current = this.cell.read();
    const accumulator = current === undefined ? this.aggregate.createAccumulator() : current;
    this.cell.write(this.aggregate.add(value, accumulator));
  }
  clear(): void {
    this.cell.write(undefined);
  }
}
