import type { Key, StateTtl } from "@keyflow/functions-sdk";
import { canonicalKey, keyOfMapKey } from "../partition/canonical-key.js";
import type { Clock } from "../time/clock.js";
import {
  ABSENT,
  type Absent,
  type ChangeHolder,
  ChangeTracker,
  CopiedRead,
  type HeldValue,
  type SnapshotMode,
  type SnapshotRead,
} from "../util/change-tracker.js";
import { giveBackBuffer, takeFloat64Array } from "./column-buffers.js";
import { copyValue } from "./copy-value.js";
import { StateNotSnapshottableError } from "./errors.js";
import { MigrationFailure, type ValueMigration } from "./migration.js";
import { NumberKeyMap } from "./number-key-map.js";
import { FULL_WHEN_CHANGED } from "./operator-state-snapshots.js";

/** A value with its expiry, stored only by tables with a TTL; `changedIn` as in Boxed. */
interface Expiring<V> {
  value: V;
  expiresAt: number;
  changedIn: number;
}

/**
 * A value written since checkpoints began (tables without a TTL), with the epoch its key's change
 * was recorded in: a key written on every record is then recorded once per checkpoint, by a
 * field compare, instead of a Set lookup per write.
 */
class Boxed<V> implements HeldValue<Stored<V>> {
  prev: Stored<V> | Absent | undefined = undefined;
  savedIn = -1;
  constructor(
    public value: V,
    public changedIn: number,
  ) {}
}

/** What the Map of a table holds: values (a box once written after checkpoints began), or entries with an expiry. */
type Stored<V> = V | Boxed<V> | Expiring<V>;

/** How a table's values look in a snapshot, when not as they are (map state: Maps as arrays of pairs). */
export interface ValueCodec {
  encode(value: unknown): unknown;
  decode(encoded: unknown): unknown;
}

export interface StateTableOptions {
  readonly ttl?: StateTtl | undefined;
  /** The state's name, for errors. Default "state". */
  readonly name?: string;
  readonly codec?: ValueCodec;
  /** Track changes from the start (a table made after checkpoints began). Default false. */
  readonly tracked?: boolean;
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
 *
 * Checkpoints (see ChangeTracker): once they began, writes record their key — a value written
 * from then on is kept in a Boxed, so its key is recorded once per checkpoint — and while a
 * snapshot is read, a write, or a read handing out an object its holder may change in place,
 * first preserves that key's value at the mark. Whoever changes a value in place (a list or map
 * handle, an accumulator) calls `touch` afterwards, so the change is in the next incremental
 * snapshot. A snapshot's values are as stored, or `[value, expiresAt]` with a TTL.
 */
export class StateTable<V> {
  private readonly plain: NumberKeyMap<V | Boxed<V>> | undefined;
  private readonly expiring: Map<unknown, Expiring<V>> | undefined;
  private sweepCursor: Iterator<[unknown, Expiring<V>]> | undefined;
  private readonly ttlMs: number;
  private readonly updateOnRead: boolean;
  private readonly returnExpired: boolean;
  readonly tracker: ChangeTracker<Stored<V>>;
  /** Copy mode (see `snapshot`): not tracking changes; full snapshots copy the Map at the mark. */
  private copying = false;
  /** In copy mode, the marks still copied before one that tracks again, while copies cannot be compared (a remeasure). */
  private copiesLeft = 0;
  /**
   * The values of the last copy (all numbers), on memory of the table's own, and the map's
   * layout then: the next copy compares with them by position to count the keys that changed
   * in between (`changedSinceCopy`), where the layout is still the same.
   */
  private lastValues: Float64Array | undefined;
  private lastLayout = -1;
  /** The checkpoint the last copy was taken for, and whether it completed (then it can be a base). */
  private lastCopyId = -1;
  private lastCopyCompleted = false;
  /** Keys whose value differs between the last two copies; -1 when they could not be compared. */
  private changedSinceCopy = -1;
  /**
   * Those keys with their values now, when the last copy was a completed checkpoint's: an
   * incremental snapshot taken by comparison. Undefined otherwise.
   */
  private differing: CopiedRead<Stored<V>> | undefined;
  /** The copy `prepare` took for the mark of checkpoint `id` (undefined read: the table could not be copied). */
  private prepared: { id: number; read: CopiedRead<Stored<V>> | undefined } | undefined;
  private readonly codec: ValueCodec | undefined;
  /**
   * The tracker's flags where the hottest paths read them in one load: 0 before checkpoints
   * began (values are never boxed then), else TRACKING | READING while a snapshot is read, and
   * MAY_HOLD_BOXES in copy mode until its boxes are replaced. Read-only outside.
   */
  watch = 0;
  /** When the last snapshot was marked, and the one before (at first: when the table was made). */
  private markedAt: number;
  private markedBefore: number;
  /** Tracked writes until the next check of whether copy mode pays already (see copyWhenMostlyChanged). */
  private untilCopyCheck = COPY_CHECK_EVERY;
  /** A copy met an object value: this table is not copied (it would be given up at every mark). */
  private uncopyable = false;
  /** Boxes may be left from a tracked interval (a copy at a mark found some): the watched path replaces them as it writes. */
  private mayHoldBoxes = false;
  /**
   * Set while restoring values stored at an older version of the state: each restored value
   * goes through it (after the codec's decode) before it is put in the table.
   */
  migration: ValueMigration | undefined;

  constructor(
    private readonly clock: Clock,
    options: StateTableOptions = {},
  ) {
    const ttl = options.ttl;
    this.ttlMs = ttl?.ttlMs ?? Number.POSITIVE_INFINITY;
    this.updateOnRead = ttl?.update === "onReadAndWrite";
    this.returnExpired = ttl?.visibility === "returnExpiredIfNotCleanedUp";
    this.codec = options.codec;
    this.markedAt = this.markedBefore = clock.now();
    const name = options.name ?? "state";
    const copyFailure = (key: unknown, cause: unknown) => StateNotSnapshottableError.of(name, keyOfMapKey(key), cause);
    if (ttl === undefined) {
      const plain = new NumberKeyMap<V | Boxed<V>>();
      this.plain = plain;
      this.tracker = new ChangeTracker<Stored<V>>(
        plain,
        (stored) => copyValue(unbox(stored as V)) as V,
        copyFailure,
        (stored, epoch) =>
          stored instanceof Boxed && stored.savedIn === epoch ? (stored.prev as Stored<V> | Absent) : stored,
      );
    } else {
      const expiring = new Map<unknown, Expiring<V>>();
      this.expiring = expiring;
      this.tracker = new ChangeTracker<Stored<V>>(
        expiring,
        (entry) => {
          const { value, expiresAt } = entry as Expiring<V>;
          return { value: copyValue(value), expiresAt, changedIn: -1 };
        },
        copyFailure,
      );
    }
    this.tracker.onFlags = () => {
      this.refreshWatch();
    };
    if (options.tracked === true) this.tracker.startFromBase();
  }

  private refreshWatch(): void {
    const tracker = this.tracker;
    this.watch =
      (tracker.tracking ? TRACKING : 0) | (tracker.reading ? READING : 0) | (this.mayHoldBoxes ? MAY_HOLD_BOXES : 0);
  }

  get size(): number {
    return (this.plain ?? (this.expiring as Map<unknown, unknown>)).size;
  }

  /** The key's live value, or undefined. */
  get(key: Key): V | undefined {
    // The record path's common case in a body small enough to inline into the state handle (once
    // a checkpoint's tracked interval had run the rest, the whole method stopped inlining: the
    // counting benchmark ran a quarter slower for the rest of the job).
    const plain = this.plain;
    if (this.watch === 0 && plain !== undefined && typeof key !== "object") return plain.get(key) as V | undefined;
    return this.getWatched(key);
  }

  /** Starts loading what lookups of these keys will read (number keys only); see NumberKeyMap.prefetch. */
  prefetch(keys: readonly unknown[], count: number): number {
    const plain = this.plain;
    return plain === undefined ? 0 : plain.prefetch(keys, count);
  }

  private getWatched(key: Key): V | undefined {
    const k = typeof key === "object" ? canonicalKey(key) : key;
    if (this.plain !== undefined) {
      const stored = this.plain.get(k);
      if (this.watch === 0) return stored as V | undefined;
      if (stored instanceof Boxed) {
        if ((this.watch & READING) !== 0 && stored.savedIn !== this.tracker.epoch && isMutable(stored.value)) {
          this.tracker.saveHeld(k, stored.value, stored);
        }
        return stored.value;
      }
      if ((this.watch & READING) !== 0 && isMutable(stored)) this.tracker.preserve(k);
      return stored;
    }
    const entry = (this.expiring as Map<unknown, Expiring<V>>).get(k);
    if (entry === undefined) return undefined;
    // A value handed out may be changed in place; one changed in this epoch was preserved already.
    if ((this.watch & READING) !== 0 && entry.changedIn !== this.tracker.epoch && isMutable(entry.value))
      this.tracker.preserve(k);
    const now = this.clock.now();
    if (entry.expiresAt <= now) {
      if (this.returnExpired) return entry.value;
      if (this.tracker.tracking) this.tracker.change(k);
      (this.expiring as Map<unknown, Expiring<V>>).delete(k);
      return undefined;
    }
    if (this.updateOnRead) {
      if (this.tracker.tracking) this.tracker.changeOnce(k, entry);
      entry.expiresAt = now + this.ttlMs;
    }
    return entry.value;
  }

  /**
   * The key's live value for a reader outside the record path (a queryable-state query): no TTL
   * refresh (`onReadAndWrite` does not apply), no removal of an expired value, no change
   * recorded and nothing preserved for a snapshot being read — the caller must not change what it
   * gets (copy it first). An expired value is returned only with `returnExpiredIfNotCleanedUp`.
   */
  peek(key: Key): V | undefined {
    const k = typeof key === "object" ? canonicalKey(key) : key;
    if (this.plain !== undefined) return unbox(this.plain.get(k));
    const entry = (this.expiring as Map<unknown, Expiring<V>>).get(k);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.clock.now() && !this.returnExpired) return undefined;
    return entry.value;
  }

  /** Sets the key's value and restarts its TTL. */
  set(key: Key, value: V): void {
    const plain = this.plain;
    if (this.watch === 0 && plain !== undefined && typeof key !== "object") {
      plain.set(key, value); // as in `get`
      return;
    }
    this.setWatched(key, value);
  }

  private setWatched(key: Key, value: V): void {
    const k = typeof key === "object" ? canonicalKey(key) : key;
    const tracker = this.tracker;
    const plain = this.plain;
    if (plain !== undefined) {
      if (!tracker.tracking) {
        plain.set(k, value);
        return;
      }
      const stored = plain.get(k);
      if (stored instanceof Boxed) {
        if ((this.watch & READING) !== 0 && stored.savedIn !== tracker.epoch) tracker.saveHeld(k, stored.value, stored);
        tracker.record(k, stored);
        stored.value = value;
      } else {
        const box = new Boxed(value, -1);
        if ((this.watch & READING) !== 0) tracker.saveHeld(k, stored === undefined ? ABSENT : stored, box);
        tracker.record(k, box);
        plain.set(k, box);
      }
      if (--this.untilCopyCheck === 0) this.copyWhenMostlyChanged(plain);
      return;
    }
    const expiring = this.expiring as Map<unknown, Expiring<V>>;
    const expiresAt = this.clock.now() + this.ttlMs;
    const entry = expiring.get(k);
    if (entry === undefined) {
      if (tracker.tracking) tracker.change(k);
      expiring.set(k, { value, expiresAt, changedIn: tracker.epoch });
    } else {
      if (tracker.tracking) tracker.changeOnce(k, entry);
      entry.value = value;
      entry.expiresAt = expiresAt;
    }
    this.sweep(4);
  }

  /** The key's value was changed in place (a list add, a map put): record the change and restart its TTL. */
  touch(key: Key): void {
    const tracker = this.tracker;
    const plain = this.plain;
    if (plain !== undefined) {
      if (!tracker.tracking) return;
      const k = typeof key === "object" ? canonicalKey(key) : key;
      // The value changed in place already: `get` kept what a snapshot being read needs.
      const stored = plain.get(k);
      if (stored instanceof Boxed) tracker.record(k, stored);
      else if (stored !== undefined) {
        tracker.change(k);
        plain.set(k, new Boxed(stored, tracker.epoch));
      }
      return;
    }
    const k = typeof key === "object" ? canonicalKey(key) : key;
    const entry = (this.expiring as Map<unknown, Expiring<V>>).get(k);
    if (entry !== undefined) {
      if (tracker.tracking) tracker.changeOnce(k, entry);
      entry.expiresAt = this.clock.now() + this.ttlMs;
    }
    this.sweep(4);
  }

  /**
   * `touch` for a value that is its key's own object (an accumulator the operator owns, not a
   * user's value): it remembers the checkpoint epoch its change was recorded in itself, so no
   * box and no second lookup are needed.
   */
  touchOnce(key: Key, holder: ChangeHolder): void {
    if (this.expiring !== undefined)
      this.touch(key); // its TTL restarts
    else if ((this.watch & TRACKING) !== 0 && holder.changedIn !== this.tracker.epoch) {
      this.tracker.changeOnce(typeof key === "object" ? canonicalKey(key) : key, holder);
    }
  }

  delete(key: Key): void {
    const k = typeof key === "object" ? canonicalKey(key) : key;
    if (this.tracker.tracking) this.tracker.change(k);
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
        if (this.tracker.tracking) this.tracker.change(k);
        expiring.delete(k);
        removed++;
      }
    }
    return removed;
  }

  /** Every live (key, value), for queries and tests. Tuple keys come back in canonical string form. */
  *entries(): IterableIterator<[unknown, V]> {
    if (this.plain !== undefined) {
      for (const [k, stored] of this.plain) yield [k, unbox(stored) as V];
      return;
    }
    const now = this.clock.now();
    for (const [k, entry] of this.expiring as Map<unknown, Expiring<V>>)
      if (entry.expiresAt > now) yield [k, entry.value];
  }

  /**
   * The mark of a snapshot: the returned read yields (Map key, value as at the mark) pairs, in
   * the table's own form: pass each value through `encode`. Release it when done.
   *
   * Copy mode: a large table of numbers and strings whose keys mostly change between checkpoints
   * gains nothing from tracking changes (every snapshot is full anyway), and tracking costs every
   * write a box (one more memory access per record: measured 5.2 → 3.0 M records/s on a million
   * keys). Such a table stops tracking and takes each full snapshot by copying its keys and values
   * at the mark (two passes over the Map in its own order, no copy-on-write needed: the values
   * cannot change in place). Each copy is compared with the last by position (when no key was
   * added or removed in between: `compareWithLastCopy`), which counts the keys that changed
   * without tracking any: while most did, the table stays in copy mode; once few did, it tracks
   * changes from that mark, so the next snapshot can be incremental. When copies cannot be
   * compared, every REMEASURE_EVERY-th snapshot tracks again for one interval instead. An
   * object value ends copy mode at the next mark.
   */
  snapshot(checkpointId: number, mode: SnapshotMode): SnapshotRead<Stored<V>> {
    const plain = this.plain;
    this.markedBefore = this.markedAt;
    this.markedAt = this.clock.now();
    const prepared = this.prepared?.id === checkpointId ? this.prepared : undefined;
    this.prepared = undefined;
    if (plain !== undefined && this.copying && (prepared !== undefined || mode === "full")) {
      const copied = prepared !== undefined ? prepared.read : this.copy(plain, checkpointId);
      if (copied !== undefined) {
        let read = copied;
        const differing = this.differing;
        if (mode === "incremental" && differing !== undefined) {
          // Compared with the last completed checkpoint's copy: only what differs is written.
          this.differing = undefined;
          giveBackBuffer((copied.keys as Float64Array).buffer);
          giveBackBuffer((copied.values as unknown as Float64Array).buffer);
          read = differing;
        } else this.dropDiffering();
        const changed = this.changedSinceCopy;
        if (changed >= 0 ? changed > FULL_WHEN_CHANGED * plain.size : this.copiesLeft-- > 0) {
          if (changed >= 0) this.copiesLeft = REMEASURE_EVERY - 1; // measured: as good as a remeasure
          return read;
        }
        // Few keys changed (or a remeasure is due): track changes from this mark, so the next
        // snapshot can be incremental; this one is the copy (or its comparison).
        this.copying = false;
        this.lastValues = undefined;
        this.tracker.mark(checkpointId, mode).release();
        return read;
      }
      this.copying = false;
    }
    if (plain !== undefined && mode === "full") {
      if (this.mostlyChanged(plain)) {
        const read = this.copy(plain, checkpointId);
        if (read !== undefined) {
          this.tracker.stop();
          this.copying = true;
          this.copiesLeft = REMEASURE_EVERY - 1;
          if (this.mayHoldBoxes) this.dropBoxes(plain);
          return read;
        }
      }
      // The first full snapshot of a large table: copied too, so nothing needs copy-on-write while
      // it is written and its writer may encode it on another thread. Copy mode then begins on
      // probation: the next mark's copy, compared with this one, says whether most keys changed
      // (stay) or few did (that snapshot holds what differs; track from there). A table that
      // tracked from here instead would pay a tracked interval (a box per write, the record path
      // recompiled twice: about 300 ms on the checkpoints benchmark's million keys) only to learn
      // what the comparison tells for a few ms.
      if (!this.tracker.tracking && !this.tracker.reading && plain.size >= COPY_MODE_MIN_KEYS) {
        const read = this.copy(plain, checkpointId);
        if (read !== undefined) {
          this.copying = true;
          this.copiesLeft = 0;
          return read;
        }
      }
    }
    return this.tracker.mark(checkpointId, mode);
  }

  /** A table whose snapshots may be columns (KeyedColumns): values as stored, no codec, no expiry. */
  get columnar(): boolean {
    return this.plain !== undefined && this.codec === undefined;
  }

  /**
   * Enters copy mode in the middle of an interval once most keys will have changed by the next
   * mark: the next snapshot is full anyway (OperatorStateSnapshots makes it so past
   * FULL_WHEN_CHANGED, as `mostlyChanged` does at the mark), so tracking the rest of the interval
   * would only cost every write a box. Tracked writes are slow (a box, a record, and the box's
   * promotion by the garbage collector: 0.6-1.7 M records/s against 3.9 untracked on the
   * checkpoints benchmark's million keys), so it does not wait until half the keys changed: once
   * a twentieth of the expected interval went by, it projects the share of keys changed so far to
   * the whole interval (the last one, or for the first mark the time from the table's creation).
   * A guess that proves wrong costs one full snapshot where an incremental one would have done.
   */
  private copyWhenMostlyChanged(plain: NumberKeyMap<V | Boxed<V>>): void {
    this.untilCopyCheck = COPY_CHECK_EVERY;
    if (this.uncopyable || this.copying || !this.willMostlyChange(plain)) return;
    this.tracker.stop();
    this.copying = true;
    this.copiesLeft = REMEASURE_EVERY; // counting the next mark, the one copy mode would have begun at
    this.dropBoxes(plain);
  }

  /**
   * Out of tracking, boxes only slow every access down (a record takes the watched path until a
   * copy shows none are left: a whole interval). With the table's own hash map, unboxing in
   * place is one pass over its slots, a few ms a million keys; values that are all numbers go
   * back beside their keys.
   */
  private dropBoxes(plain: NumberKeyMap<V | Boxed<V>>): void {
    plain.replaceObjects((stored) => (stored instanceof Boxed ? stored.value : stored));
    plain.packNumbers();
    this.mayHoldBoxes = false;
    this.refreshWatch();
  }

  private willMostlyChange(plain: NumberKeyMap<V | Boxed<V>>): boolean {
    if (this.mostlyChanged(plain)) return true;
    const tracker = this.tracker;
    if (!tracker.tracking || tracker.reading || plain.size < COPY_MODE_MIN_KEYS) return false;
    const elapsed = this.clock.now() - this.markedAt;
    const expected = this.markedAt - this.markedBefore;
    if (!(expected > 0) || elapsed < expected / 20) return false;
    return (tracker.changedKeys() / plain.size) * (expected / elapsed) > FULL_WHEN_PROJECTED;
  }

  /** copyOf, noting whether boxes remain in the table (see `mayHoldBoxes`). */
  private copy(plain: NumberKeyMap<V | Boxed<V>>, checkpointId: number): CopiedRead<Stored<V>> | undefined {
    this.dropDiffering();
    if (this.uncopyable) return undefined;
    const copied = copyOf(plain);
    if (copied === undefined) {
      this.uncopyable = true;
      this.lastValues = undefined;
      return undefined;
    }
    this.compareWithLastCopy(plain, copied.read, checkpointId);
    if (this.mayHoldBoxes !== copied.boxed) {
      this.mayHoldBoxes = copied.boxed;
      this.refreshWatch();
    }
    return copied.read;
  }

  /**
   * Counts the values that differ from the last copy's (`changedSinceCopy`; -1 when the map's
   * layout changed since, or a copy was not all numbers); when that copy was a completed
   * checkpoint's and few differ, also gathers those keys and values (`differing`: an incremental
   * snapshot with no tracking at all). Then keeps this copy's values for the next. A pass or two over both,
   * about 3 ms a million keys.
   */
  private compareWithLastCopy(
    plain: NumberKeyMap<V | Boxed<V>>,
    read: CopiedRead<Stored<V>>,
    checkpointId: number,
  ): void {
    this.changedSinceCopy = -1;
    const layout = plain.layout;
    const { keys, values } = read;
    if (!(values instanceof Float64Array) || !(keys instanceof Float64Array) || layout === undefined) {
      this.lastValues = undefined;
      return;
    }
    const last = this.lastValues;
    const n = values.length;
    if (last !== undefined && last.length === n && this.lastLayout === layout) {
      let changed = 0;
      for (let i = 0; i < n; i++) if (differs(values[i] as number, last[i] as number)) changed++;
      this.changedSinceCopy = changed;
      // Only when few changed: else the snapshot is full anyway (FULL_WHEN_CHANGED), and
      // gathering most of the table again would cost a pass and two more arrays at every mark.
      if (this.lastCopyCompleted && changed <= FULL_WHEN_CHANGED * n) {
        // Same layout: the same keys, none deleted, so the differing values are all the changes.
        const changedKeys = takeFloat64Array(changed);
        const changedValues = takeFloat64Array(changed);
        let at = 0;
        for (let i = 0; i < n; i++) {
          if (differs(values[i] as number, last[i] as number)) {
            changedKeys[at] = keys[i] as number;
            changedValues[at++] = values[i] as number;
          }
        }
        this.differing = new CopiedRead<Stored<V>>(
          changedKeys,
          changedValues as unknown as ArrayLike<Stored<V>>,
          "incremental",
        );
      }
    }
    // Room to grow, so a table that gained keys does not fault in fresh memory at every mark.
    let kept = last;
    if (kept === undefined || kept.buffer.byteLength < n * Float64Array.BYTES_PER_ELEMENT) {
      kept = new Float64Array(Math.ceil(n * 1.25));
    }
    kept = new Float64Array(kept.buffer, 0, n);
    kept.set(values);
    this.lastValues = kept;
    this.lastLayout = layout;
    this.lastCopyId = checkpointId;
    this.lastCopyCompleted = false;
  }

  /** Gives the buffers of an incremental read by comparison that was not used back. */
  private dropDiffering(): void {
    const differing = this.differing;
    if (differing === undefined) return;
    this.differing = undefined;
    giveBackBuffer((differing.keys as Float64Array).buffer);
    giveBackBuffer((differing.values as unknown as Float64Array).buffer);
  }

  /**
   * Checkpoint `checkpointId`'s mark comes next: in copy mode, copies now, so that `hasBase` and
   * `changedKeys` can tell what the comparison with the last copy found (the operator chooses
   * between a full and an incremental snapshot from them).
   */
  prepare(checkpointId: number): void {
    const plain = this.plain;
    this.prepared = undefined;
    if (plain === undefined || !this.copying) return;
    this.prepared = { id: checkpointId, read: this.copy(plain, checkpointId) };
  }

  /** True when the next snapshot can be incremental: tracked from a completed checkpoint, or compared with one's copy. */
  get hasBase(): boolean {
    return this.tracker.hasBase || (this.prepared !== undefined && this.differing !== undefined);
  }

  /** About how many keys changed since the last completed checkpoint (see ChangeTracker.changedKeys). */
  changedKeys(): number {
    if (this.prepared !== undefined && this.differing !== undefined) return this.changedSinceCopy;
    return this.tracker.changedKeys();
  }

  /** Checkpoint `checkpointId` is durable: its changes need not be written again, and its copy can be a base. */
  checkpointComplete(checkpointId: number): void {
    this.tracker.complete(checkpointId);
    if (checkpointId === this.lastCopyId) this.lastCopyCompleted = true;
  }

  /** True while copy mode pays: a large table, most of whose keys changed since the last completed checkpoint. */
  private mostlyChanged(plain: ReadonlyMap<unknown, unknown>): boolean {
    const tracker = this.tracker;
    return (
      tracker.tracking && !tracker.reading && plain.size >= COPY_MODE_MIN_KEYS && tracker.changedKeys() > plain.size / 2
    );
  }

  /** A value as a snapshot holds it: encoded by the codec, with its expiry when the table has a TTL. */
  encode(raw: Stored<V> | Absent): unknown {
    if (raw === ABSENT) return raw;
    const codec = this.codec;
    if (this.expiring === undefined) {
      const value = unbox(raw as V | Boxed<V>);
      return codec === undefined ? value : codec.encode(value);
    }
    const entry = raw as Expiring<V>;
    return [codec === undefined ? entry.value : codec.encode(entry.value), entry.expiresAt];
  }

  /**
   * Puts a snapshot's value back under its Map key (before processing starts), as `encode`
   * wrote it; undefined deletes. Restored values are not changes: the checkpoint holds them.
   */
  restore(mapKey: unknown, encoded: unknown): void {
    if (this.plain !== undefined) {
      if (encoded === undefined) this.plain.delete(mapKey);
      else this.plain.set(mapKey, this.decode(mapKey, encoded));
      return;
    }
    const expiring = this.expiring as Map<unknown, Expiring<V>>;
    if (encoded === undefined) {
      expiring.delete(mapKey);
      return;
    }
    if (!Array.isArray(encoded) || encoded.length !== 2 || typeof encoded[1] !== "number") {
      throw new TypeError("a value of state with a TTL is restored from [value, expiresAt]");
    }
    expiring.set(mapKey, { value: this.decode(mapKey, encoded[0]), expiresAt: encoded[1], changedIn: -1 });
  }

  private decode(mapKey: unknown, encoded: unknown): V {
    const codec = this.codec;
    const value = codec === undefined ? encoded : codec.decode(encoded);
    const migration = this.migration;
    if (migration === undefined) return value as V;
    try {
      return migration(value) as V;
    } catch (error) {
      throw new MigrationFailure(mapKey, error);
    }
  }
}

/**
 * A value the user could change in place after `get`: only objects. A snapshot being read keeps a
 * copy of such a value before handing it out; a number or string needs none.
 */
function isMutable(value: unknown): boolean {
  return typeof value === "object" && value !== null;
}

/** Bits of StateTable.watch. */
const TRACKING = 1;
const READING = 2;
const MAY_HOLD_BOXES = 4;

/** Copy mode for tables of at least this many keys (smaller ones cost little either way). */
const COPY_MODE_MIN_KEYS = 10_000;
/** Tracked writes between two checks of whether a table should enter copy mode before its next mark. */
const COPY_CHECK_EVERY = 4096;
/**
 * The share of a table's keys that, projected to the next mark, sends it to copy mode early: half
 * of FULL_WHEN_CHANGED, because the projection extrapolates the rate of tracked writes, which run
 * several times slower than the untracked ones that follow (on the checkpoints benchmark's first
 * tracked interval, 0.2-1 against 7-8 M records/s: with FULL_WHEN_CHANGED itself the table stayed
 * tracked for 600 ms, with this for 250 ms).
 */
const FULL_WHEN_PROJECTED = 0.25;
/** In copy mode, while copies cannot be compared, every this many snapshots the table tracks changes again for one interval. */
const REMEASURE_EVERY = 8;

/**
 * A full snapshot of `plain` copied now, unboxing values in place (a table leaving tracking
 * holds boxes); undefined when a value is an object (it could change in place: no copy mode).
 */
function copyOf<V>(plain: NumberKeyMap<V | Boxed<V>>): { read: CopiedRead<Stored<V>>; boxed: boolean } | undefined {
  // One pass, optimistically into Float64Arrays (a third of the memory of an array of heap
  // numbers, and a writer can hand them to another thread without a copy); a column falls back
  // to an array at its first value that is not a number.
  const size = plain.size;
  const numericKeys = takeFloat64Array(size);
  const numericValues = takeFloat64Array(size);
  if (plain.copyNumbers(numericKeys, numericValues) === size) {
    // A tracked interval's boxes sent the map to object mode; its values are numbers again.
    plain.packNumbers();
    return {
      read: new CopiedRead<Stored<V>>(numericKeys, numericValues as unknown as ArrayLike<Stored<V>>),
      boxed: false,
    };
  }
  let keys: Float64Array | unknown[] = numericKeys;
  let values: Float64Array | unknown[] = numericValues;
  let i = 0;
  let mutable = false;
  let boxed = false;
  plain.forEach((stored, key) => {
    let value: unknown = stored;
    if (stored instanceof Boxed) {
      value = stored.value;
      boxed = true;
    }
    if (typeof value !== "number" && values instanceof Float64Array) values = Array.from(values);
    if (typeof key !== "number" && keys instanceof Float64Array) keys = Array.from(keys);
    if (isMutable(value)) mutable = true;
    values[i] = value;
    keys[i++] = key;
  });
  if (keys !== numericKeys) giveBackBuffer(numericKeys.buffer as ArrayBuffer);
  if (values !== numericValues) giveBackBuffer(numericValues.buffer as ArrayBuffer);
  if (mutable) {
    if (keys === numericKeys) giveBackBuffer(numericKeys.buffer as ArrayBuffer);
    if (values === numericValues) giveBackBuffer(numericValues.buffer as ArrayBuffer);
    return undefined;
  }
  return { read: new CopiedRead<Stored<V>>(keys, values as unknown as ArrayLike<Stored<V>>), boxed };
}

function unbox<V>(stored: V | Boxed<V> | undefined): V | undefined {
  return stored instanceof Boxed ? stored.value : stored;
}

/** Two copied values differ (NaN equals NaN here; -0 equals 0, as keys compare). */
function differs(now: number, before: number): boolean {
  return now !== before && !(Number.isNaN(now) && Number.isNaN(before));
}
