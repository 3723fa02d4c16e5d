import type { Key, StateDeclarations, StateDescriptor, StateHandles } from "@keyflow/functions-sdk";
import { keyOfMapKey } from "../partition/canonical-key.js";
import { keyGroupOf } from "../partition/key-groups.js";
import type { Clock } from "../time/clock.js";
import { ABSENT, CopiedRead, type SnapshotMode, type SnapshotRead } from "../util/change-tracker.js";
import { copyValue } from "./copy-value.js";
import type { KeyedPartSnapshot, KeyedStatePart } from "./keyed-state-part.js";
import { migrationOf, versionOf } from "./migration.js";
import { DELETED, type KeyedColumns, type KeyedStateEntry, type SnapshotColumn } from "./snapshot.js";
import {
  AggregatingHandle,
  type CurrentKey,
  ListHandle,
  MapHandle,
  ReducingHandle,
  TableCell,
  ValueHandle,
} from "./state-handles.js";
import { StateTable, type ValueCodec } from "./state-table.js";

/** Map state in a snapshot: the Map as an array of [key, value] pairs (msgpack keeps arrays, not Maps). */
export const MAP_CODEC: ValueCodec = {
  encode: (value) => Array.from(value as Map<unknown, unknown>),
  decode: (encoded) => new Map(encoded as Array<[unknown, unknown]>),
};

/**
 * The keyed state of one operator in one shard: a table per declared state, and the current key
 * that every handle reads and writes. The operator sets the current key before calling the user's
 * function for a record; handles are created once and resolve the key on each call.
 *
 * Checkpoints: one entry per (state, key) in the snapshot, named by the declared state's name,
 * keyed by the key's Map-key form; map state as arrays of pairs, TTL state as [value, expiresAt].
 */
export class KeyedStateBackend implements CurrentKey, KeyedStatePart {
  /** The key of the record or timer being processed. */
  currentKey: Key = "";
  private readonly tables = new Map<string, StateTable<unknown>>();
  /** The tables as an array, for `prefetch`'s loop. */
  private tableList: StateTable<unknown>[] = [];
  /** What the last `prefetch` read (see `prefetchedOccupied`), kept so that its loads are not dropped. */
  private occupied = 0;
  /** The descriptor each table was made for: its version and migrate hook. */
  private readonly descriptors = new Map<string, StateDescriptor>();
  /** Tables whose restored values were migrated: they start without a base (see migrateFrom). */
  private readonly migrated = new Set<string>();
  /** Checkpoints began (a mark or a restore): tables made from now on track their changes from the start. */
  private tracking = false;

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

  /** The table of state `name` (made on first use); `codec` overrides how its values look in snapshots. */
  table(name: string, descriptor: StateDescriptor, codec?: ValueCodec): StateTable<unknown> {
    let table = this.tables.get(name);
    if (table === undefined) {
      table = new StateTable<unknown>(this.clock, {
        ttl: descriptor.ttl,
        name,
        codec: codec ?? (descriptor.kind === "map" ? MAP_CODEC : undefined),
        tracked: this.tracking,
      });
      this.tables.set(name, table);
      this.tableList = [...this.tables.values()];
      this.descriptors.set(name, descriptor);
    }
    return table;
  }

  /**
   * Starts loading, in every table, the memory that the lookups of `keys[0..count)` will read:
   * for a batch of records before they are processed one by one (see KeyedProcessOperator.processBatch).
   */
  prefetch(keys: readonly Key[], count: number): void {
    const tables = this.tableList;
    let occupied = 0;
    for (let t = 0; t < tables.length; t++) occupied += (tables[t] as StateTable<unknown>).prefetch(keys, count);
    this.occupied = occupied;
  }

  /** How many of the slots the last `prefetch` loaded held a key (a key's own or a neighbour's): for tests. */
  get prefetchedOccupied(): number {
    return this.occupied;
  }

  changes(): { changed: number; keys: number } {
    let changed = 0;
    let keys = 0;
    for (const table of this.tables.values()) {
      changed += table.changedKeys();
      keys += table.size;
    }
    return { changed, keys };
  }

  /** The names of the states this backend holds (declared, or made by the operator). */
  stateNames(): string[] {
    return [...this.tables.keys()];
  }

  /**
   * A copy of key `key`'s value of state `name` as its handle's getter would return it (a list as
   * its array, a map as its Map, an aggregating state's result), or undefined when the key has
   * none. Read-only: no TTL refresh, no change tracking (see StateTable.peek); for queryable
   * state, on the shard's thread between elements. A value state's default is not filled in.
   */
  peek(name: string, key: Key): unknown {
    const table = this.tables.get(name);
    if (table === undefined) return undefined;
    const value = table.peek(key);
    if (value === undefined) return undefined;
    const descriptor = this.descriptors.get(name);
    if (descriptor?.kind === "aggregating") return copyValue(descriptor.aggregate.getResult(value));
    return copyValue(value);
  }

  /** Number of keys with live state in each table (for tests and metrics). */
  sizes(): Record<string, number> {
    const sizes: Record<string, number> = {};
    for (const [name, table] of this.tables) sizes[name] = table.size;
    return sizes;
  }

  prepare(checkpointId: number): void {
    for (const table of this.tables.values()) table.prepare(checkpointId);
  }

  get hasBase(): boolean {
    for (const table of this.tables.values()) if (!table.hasBase) return false;
    return true;
  }

  snapshot(checkpointId: number, mode: SnapshotMode): KeyedPartSnapshot {
    this.tracking = true;
    const reads = Array.from(this.tables, ([name, table]) => ({
      name,
      table,
      read: table.snapshot(checkpointId, mode),
    }));
    const maxParallelism = this.maxParallelism;
    const entriesOf = (of: typeof reads): Iterable<KeyedStateEntry> => ({
      *[Symbol.iterator]() {
        for (const { name, table, read } of of) {
          yield* read.entries(
            (key, raw): KeyedStateEntry => ({
              keyGroup: keyGroupOf(keyOfMapKey(key), maxParallelism),
              state: name,
              key,
              value: raw === ABSENT ? DELETED : table.encode(raw),
            }),
          );
        }
      },
    });
    // Tables copied at the mark whose values are stored as a snapshot holds them go as columns.
    const columns: KeyedColumns[] = [];
    const rest: typeof reads = [];
    for (const r of reads) {
      const copied = r.table.columnar ? columnsOf(r.read) : undefined;
      if (copied === undefined) rest.push(r);
      else columns.push({ state: r.name, maxParallelism, keys: copied.keys, values: copied.values });
    }
    return {
      entries: entriesOf(reads),
      ...(columns.length === 0 ? {} : { columnar: { columns, rest: entriesOf(rest) } }),
      release() {
        for (const { read } of reads) read.release();
      },
    };
  }

  checkpointComplete(checkpointId: number): void {
    for (const table of this.tables.values()) table.checkpointComplete(checkpointId);
  }

  owns(name: string): boolean {
    return this.tables.has(name);
  }

  restoreEntry(entry: KeyedStateEntry): void {
    const table = this.tables.get(entry.state) as StateTable<unknown>;
    table.restore(entry.key, entry.value === DELETED ? undefined : entry.value);
  }

  restored(): void {
    this.tracking = true;
    for (const [name, table] of this.tables) {
      table.migration = undefined;
      // A migrated table differs from what the checkpoint's chain holds: its first snapshot must
      // be full, so no chain ever mixes values of two versions of a state.
      if (!this.migrated.has(name)) table.tracker.startFromBase();
    }
    this.migrated.clear();
  }

  stateVersions(): Readonly<Record<string, number>> {
    const versions: Record<string, number> = {};
    for (const [name, descriptor] of this.descriptors) versions[name] = versionOf(descriptor);
    return versions;
  }

  migrateFrom(name: string, storedVersion: number): boolean {
    const table = this.tables.get(name);
    const descriptor = this.descriptors.get(name);
    if (table === undefined || descriptor === undefined) return false;
    const migration = migrationOf(descriptor, storedVersion);
    if (migration === undefined) return false;
    table.migration = migration;
    this.migrated.add(name);
    return true;
  }

  private handle(name: string, descriptor: StateDescriptor): unknown {
    const table = this.table(name, descriptor);
    switch (descriptor.kind) {
      case "value":
        return new ValueHandle(new TableCell(this, table), descriptor.defaultValue);
      case "list":
        return new ListHandle(new TableCell(this, table as StateTable<unknown[]>));
      case "map":
        return new MapHandle(new TableCell(this, table as StateTable<Map<unknown, unknown>>));
      case "reducing":
        return new ReducingHandle(new TableCell(this, table), descriptor.reduce);
      case "aggregating":
        return new AggregatingHandle(new TableCell(this, table), descriptor.aggregate);
    }
  }
}

/** The columns of a read copied at the mark, or undefined for a read of the live table. */
function columnsOf(read: SnapshotRead<unknown>): { keys: SnapshotColumn; values: SnapshotColumn } | undefined {
  if (!(read instanceof CopiedRead)) return undefined;
  return { keys: read.keys as SnapshotColumn, values: read.values as SnapshotColumn };
}
