import type { Key, StateTtl } from "@keyflow/functions-sdk";
import { canonicalKey } from "../partition/canonical-key.js";
import type { Clock } from "../time/clock.js";

/** A value with its expiry, stored only by tables with a TTL. */
interface Expiring<V> {
  value: V;
  expiresAt: number;
}

/**
 * The values of one declared state for every key of a shard, in memory, for fast synchronous
 * access. Composite (tuple) keys are stored under a canonical string so equal tuples meet.
 *
 * Without a TTL the map holds the values themselves: a rolling aggregation then costs one Map
 * get and one set per record, as a hand-written loop would (an entry object per key measured
 * 30% slower on this machine). Key groups are derived from keys when state is snapshotted or
 * rescaled, not stored.
 *
 * With a TTL, expired values are never returned (unless visibility says otherwise) and are
 * removed when read and by an incremental sweep that visits a few entries on every write, so
 * keys that are never touched again do not leak.
 */
export class StateTable<V> {
  private readonly plain: Map<unknown, V> | undefined;
  private readonly expiring: Map<unknown, Expiring<V>> | undefined;
  private sweepCursor: Iterator<[unknown, Expiring<V>]> | undefined;
  private readonly ttlMs: number;
  private readonly updateOnRead: boolean;
  private readonly returnExpired: boolean;

  constructor(
    private readonly clock: Clock,
    ttl: StateTtl | undefined,
  ) {
    this.ttlMs = ttl?.ttlMs ?? Number.POSITIVE_INFINITY;
    this.updateOnRead = ttl?.update === "onReadAndWrite";
    this.returnExpired = ttl?.visibility === "returnExpiredIfNotCleanedUp";
    if (ttl === undefined) this.plain = new Map();
    else this.expiring = new Map();
  }

  get size(): number {
    return (this.plain ?? (this.expiring as Map<unknown, unknown>)).size;
  }

  /** The key's live value, or undefined. */
  get(key: Key): V | undefined {
    const k = typeof key === "object" ? canonicalKey(key) : key;
    if (this.plain !== undefined) return this.plain.get(k);
    const entry = (this.expiring as Map<unknown, Expiring<V>>).get(k);
    if (entry === undefined) return undefined;
    const now = this.clock.now();
    if (entry.expiresAt <= now) {
      if (this.returnExpired) return entry.value;
      (this.expiring as Map<unknown, Expiring<V>>).delete(k);
      return undefined;
    }
    if (this.updateOnRead) entry.expiresAt = now + this.ttlMs;
    return entry.value;
  }

  /** Sets the key's value and restarts its TTL. */
  set(key: Key, value: V): void {
    const k = typeof key === "object" ? canonicalKey(key) : key;
    if (this.plain !== undefined) {
      this.plain.set(k, value);
      return;
    }
    const expiring = this.expiring as Map<unknown, Expiring<V>>;
    const expiresAt = this.clock.now() + this.ttlMs;
    const entry = expiring.get(k);
    if (entry === undefined) expiring.set(k, { value, expiresAt });
    else {
      entry.value = value;
      entry.expiresAt = expiresAt;
    }
    this.sweep(4);
  }

  /** The key's value was changed in place (a list add, a map put): restart its TTL. */
  touch(key: Key): void {
    if (this.expiring === undefined) return;
    const entry = this.expiring.get(typeof key === "object" ? canonicalKey(key) : key);
    if (entry !== undefined) entry.expiresAt = this.clock.now() + this.ttlMs;
    this.sweep(4);
  }

  delete(key: Key): void {
    const k = typeof key === "object" ? canonicalKey(key) : key;
    if (this.plain !== undefined) this.plain.delete(k);
    else (this.expiring as Map<unknown, Expiring<V>>).delete(k);
  }

  /** Visits up to `budget` entries of a TTL table, removing expired ones; resumes where it stopped. */
  sweep(budget: number): number {
    const expiring = this.expiring;
    if (expiring === undefined) return 0;
    const now = this.clock.now();
    let removed = 0;
    for (let i = 0; i < budget; i++) {
      this.sweepCursor ??= expiring.entries();
      const next = this.sweepCursor.next();
      if (next.done) {
        this.sweepCursor = undefined;
        if (expiring.size === 0) break;
        continue;
      }
      const [k, entry] = next.value;
      if (entry.expiresAt <= now) {
        expiring.delete(k);
        removed++;
      }
    }
    return removed;
  }

  /** Every live (key, value), for snapshots, queries and tests. Tuple keys come back in canonical string form. */
  *entries(): IterableIterator<[unknown, V]> {
    if (this.plain !== undefined) {
      yield* this.plain;
      return;
    }
    const now = this.clock.now();
    for (const [k, entry] of this.expiring as Map<unknown, Expiring<V>>)
      if (entry.expiresAt > now) yield [k, entry.value];
  }
}

/** Map key of a tuple key: canonical JSON (primitives are used as they are; Map compares them by value). */
