import type { Key, StateTtl } from "@keyflow/functions-sdk";
import { keyGroupOf } from "../partition/key-groups.js";
import type { Clock } from "../time/clock.js";

/** One key's entry: its value, its key group (computed once, for snapshots and rescaling) and its expiry. */
export interface StateEntry<V> {
  value: V;
  readonly keyGroup: number;
  /** Processing time after which the entry is expired; Infinity without TTL. */
  expiresAt: number;
}

/**
 * The values of one declared state for every key of a shard, in memory, for fast synchronous
 * access. Composite (tuple) keys are stored under a canonical string so equal tuples meet.
 * With a TTL, expired entries are never returned and are removed when read and by an
 * incremental sweep that visits a few entries on every write, so untouched keys do not leak.
 */
export class StateTable<V> {
  private readonly entries = new Map<unknown, StateEntry<V>>();
  private sweepCursor: Iterator<[unknown, StateEntry<V>]> | undefined;
  private readonly ttlMs: number;
  private readonly updateOnRead: boolean;
  private readonly returnExpired: boolean;

  constructor(
    private readonly maxParallelism: number,
    private readonly clock: Clock,
    ttl: StateTtl | undefined,
  ) {
    this.ttlMs = ttl?.ttlMs ?? Number.POSITIVE_INFINITY;
    this.updateOnRead = ttl?.update === "onReadAndWrite";
    this.returnExpired = ttl?.visibility === "returnExpiredIfNotCleanedUp";
  }

  get size(): number {
    return this.entries.size;
  }

  /** The live entry of `key`, or undefined (an expired entry is removed, unless visibility says otherwise). */
  get(key: Key): StateEntry<V> | undefined {
    const entry = this.entries.get(mapKey(key));
    if (entry === undefined || this.ttlMs === Number.POSITIVE_INFINITY) return entry;
    const now = this.clock.now();
    if (entry.expiresAt <= now) {
      if (this.returnExpired) return entry;
      this.entries.delete(mapKey(key));
      return undefined;
    }
    if (this.updateOnRead) entry.expiresAt = now + this.ttlMs;
    return entry;
  }

  /** Sets the key's value, creating its entry when needed, and restarts its TTL. */
  put(key: Key, value: V): StateEntry<V> {
    const k = mapKey(key);
    let entry = this.entries.get(k);
    const expiresAt = this.ttlMs === Number.POSITIVE_INFINITY ? this.ttlMs : this.clock.now() + this.ttlMs;
    if (entry === undefined) {
      entry = { value, keyGroup: keyGroupOf(key, this.maxParallelism), expiresAt };
      this.entries.set(k, entry);
    } else {
      entry.value = value;
      entry.expiresAt = expiresAt;
    }
    if (this.ttlMs !== Number.POSITIVE_INFINITY) this.sweep(4);
    return entry;
  }

  /** Restarts the TTL of an entry changed in place (list add, map put). */
  touch(entry: StateEntry<V>): void {
    if (this.ttlMs === Number.POSITIVE_INFINITY) return;
    entry.expiresAt = this.clock.now() + this.ttlMs;
    this.sweep(4);
  }

  delete(key: Key): void {
    this.entries.delete(mapKey(key));
  }

  /** Visits up to `budget` entries, removing expired ones; resumes where it stopped. */
  sweep(budget: number): number {
    const now = this.clock.now();
    let removed = 0;
    for (let i = 0; i < budget; i++) {
      this.sweepCursor ??= this.entries.entries();
      const next = this.sweepCursor.next();
      if (next.done) {
        this.sweepCursor = undefined;
        if (this.entries.size === 0) break;
        continue;
      }
      const [k, entry] = next.value;
      if (entry.expiresAt <= now) {
        this.entries.delete(k);
        removed++;
      }
    }
    return removed;
  }

  /** Every live entry, for snapshots, queries and tests. */
  *liveEntries(): IterableIterator<[unknown, StateEntry<V>]> {
    const now = this.clock.now();
    for (const pair of this.entries) if (pair[1].expiresAt > now) yield pair;
  }
}

/** Map key of a Key: primitives as they are (Map compares them by value), tuples as canonical JSON. */
export function mapKey(key: Key): unknown {
  return typeof key === "object" ? JSON.stringify(key, (_k, v) => (typeof v === "bigint" ? `${v}n` : v)) : key;
}
