import { Packr } from "msgpackr";
import { DELETED, type KeyedStateEntry, type OperatorSnapshot } from "../../src/state/snapshot.js";

/**
 * Plain msgpack, with Maps decoded as objects: a Map left in a snapshot's value would come back
 * as an object and break the restored operator, as with any msgpack decoder that is not msgpackr.
 */
const packr = new Packr({ useRecords: false, mapsAsObjects: true });

/** A value through msgpack and back, as a checkpoint store writes and reads it. */
export function roundTrip<T>(value: T): T {
  return packr.unpack(packr.pack(value)) as T;
}

/**
 * What a checkpoint store keeps of one operator, reduced to its logic: entries by (state, key),
 * a full snapshot replacing everything, an incremental one putting and deleting. Values are
 * copied as they are read, as a store encodes each chunk before the shard runs again.
 */
export class ModelStore {
  private readonly entries = new Map<string, KeyedStateEntry>();

  /** Applies a snapshot's entries (already read, see readInChunks). */
  apply(mode: "full" | "incremental", entries: readonly KeyedStateEntry[]): this {
    if (mode === "full") this.entries.clear();
    for (const entry of entries) {
      const id = `${entry.state}\u0001${JSON.stringify(entry.key)}`;
      if (entry.value === DELETED) this.entries.delete(id);
      else this.entries.set(id, entry);
    }
    return this;
  }

  list(): KeyedStateEntry[] {
    return sortEntries([...this.entries.values()]);
  }
}

/**
 * Reads a snapshot's entries `chunk` at a time, encoding each with msgpack (as a store does), and calls
 * `between(i)` after chunk i: the shard processing records while the snapshot is written.
 * Releases the snapshot at the end.
 */
export function readInChunks(
  snapshot: OperatorSnapshot,
  chunk: number,
  between: (chunkIndex: number) => void = () => {},
): KeyedStateEntry[] {
  const read: KeyedStateEntry[] = [];
  const iterator = snapshot.keyed[Symbol.iterator]();
  for (let i = 0; ; i++) {
    for (let n = 0; n < chunk; n++) {
      const next = iterator.next();
      if (next.done === true) {
        snapshot.release();
        return read;
      }
      const entry = next.value;
      read.push({ ...entry, value: entry.value === DELETED ? DELETED : roundTrip(entry.value) });
    }
    between(i);
  }
}

/** Entries in one order (by state, key group and key), for comparisons. */
export function sortEntries(entries: readonly KeyedStateEntry[]): KeyedStateEntry[] {
  const id = (e: KeyedStateEntry) =>
    `${e.state}\u0001${String(e.keyGroup).padStart(5, "0")}\u0001${JSON.stringify(e.key)}`;
  return [...entries].sort((a, b) => (id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0));
}

/** Entries as sorted plain data (deepEqual-able, DELETED as the string "DELETED"). */
export function plain(entries: readonly KeyedStateEntry[]): unknown[] {
  return sortEntries(entries).map((e) => [
    e.state,
    e.keyGroup,
    e.key,
    e.value === DELETED ? "DELETED" : JSON.parse(JSON.stringify(e.value)),
  ]);
}
