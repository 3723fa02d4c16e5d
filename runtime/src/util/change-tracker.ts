/** What a snapshot holds: every live entry, or what changed since the last completed checkpoint. */
export type SnapshotMode = "full" | "incremental";

/** A key had no value at a snapshot's mark (added after it; or, in an incremental snapshot, deleted before it). */
export const ABSENT: unique symbol = Symbol("absent");
export type Absent = typeof ABSENT;

/** No key: a value no Map key can be. */
const NO_KEY = Symbol("no key");

/** A key's own object in a tracked structure, remembering the epoch its key was last recorded in (-1: never). */
export interface ChangeHolder {
  changedIn: number;
}

/**
 * A key's own box in a structure whose values are replaced, never changed in place, once boxed
 * (a state table's values): besides `changedIn` it keeps the value at the newest read's mark
 * when it changed during that read, so the read needs no copy in a side Map (see `saveHeld`).
 */
export interface HeldValue<V> extends ChangeHolder {
  /** The value at the mark of the read of epoch `savedIn` (a copy when mutable), or ABSENT. */
  prev: V | Absent | undefined;
  /** The epoch whose read `prev` serves (-1: none). */
  savedIn: number;
}

/** The keys changed between two marks, sealed at the second (checkpoint `checkpointId`). */
interface Sealed {
  readonly checkpointId: number;
  readonly keys: ChangeSet;
}

/**
 * The keys changed in one epoch. Keys recorded through a HeldValue box (`record`) come once each
 * per epoch (the box remembers), so they go in an array: a push instead of a Set insert, which
 * measured about 370 ns per key on a million keys and, when every key changes between two
 * checkpoints, was a checkpoint's largest cost on the record path. Other changes (deletes, TTL
 * expiry, in-place changes of unboxed values) go in a Set; a key in both is read from the Set.
 * Lookups (`has`) are rare (concurrent or failed checkpoints) and index the array when first needed.
 */
class ChangeSet {
  readonly others = new Set<unknown>();
  /** Key, box, key, box...: the box is the key's stored value, so a read needs no lookup by key. */
  readonly held: unknown[] = [];
  private heldIndex: Set<unknown> | undefined;

  get size(): number {
    return this.others.size + this.held.length / 2;
  }

  addHeld(key: unknown, holder: unknown): void {
    this.held.push(key, holder);
    this.heldIndex = undefined;
  }

  has(key: unknown): boolean {
    if (this.others.has(key)) return true;
    if (this.heldIndex === undefined) {
      const index = new Set<unknown>();
      for (let i = 0; i < this.held.length; i += 2) index.add(this.held[i]);
      this.heldIndex = index;
    }
    return this.heldIndex.has(key);
  }

  /** Every key once. */
  *[Symbol.iterator](): Generator<unknown, void, undefined> {
    yield* this.others;
    const others = this.others;
    const held = this.held;
    for (let i = 0; i < held.length; i += 2) {
      const key = held[i];
      if (!others.has(key)) yield key;
    }
  }
}

/**
 * Checkpoint bookkeeping of one in-memory structure whose entries are the values of a live Map
 * (a state table, a timer queue filed by key, a window table): which keys changed since the last
 * completed checkpoint, and copy-on-write for snapshots read while processing goes on.
 *
 * - Dirty tracking starts with the first snapshot (or a restore): until then a write costs one
 *   boolean check. A mark seals the keys changed since the previous mark under its checkpoint
 *   id; an incremental snapshot reads every sealed set not yet covered by a completed checkpoint,
 *   so a checkpoint that failed loses nothing (the next one covers its changes);
 *   `complete(n)` forgets the sets sealed at or before n.
 * - Copy-on-write: `mark` is O(1). While a snapshot is being read, the structure calls `change`
 *   before it changes a key and `preserve` before it hands out a value that may be changed in
 *   place; the first such call for a key the snapshot covers keeps a copy of that one value (or
 *   ABSENT), so the snapshot yields exactly the values at its mark.
 *
 * Values of keys that did not change are yielded live: a reader encodes what it reads before the
 * shard processes again (the checkpoint store does, chunk by chunk), which is what keeps a full
 * snapshot from copying the whole state.
 */
export class ChangeTracker<V> {
  /** Writes record their key (true from the first mark or a restore on). Read on every write. */
  tracking = false;
  /** A snapshot is being read: changes and handed-out values preserve the value at its mark. */
  reading = false;
  private changed = new ChangeSet();
  /** The key last recorded since the last mark: a record touching one key many times records it once. */
  private lastChanged: unknown = NO_KEY;
  /**
   * Counts marks. A structure with an object per key (a key's windows) may keep the epoch in
   * which it last recorded that key there, and skip `change` while it is current (`changeOnce`):
   * one field compare instead of a Set lookup per write.
   */
  epoch = 0;
  /** Called when `tracking` or `reading` changes, for a structure that keeps them in its own fields (the hottest paths). */
  onFlags: (() => void) | undefined;
  private sealed: Sealed[] = [];
  private readonly reads: Array<TrackedRead<V>> = [];
  private firstMark = Number.POSITIVE_INFINITY;
  private based = false;

  constructor(
    private readonly live: ReadonlyMap<unknown, V>,
    private readonly copy: (value: V) => V,
    /** The error a read fails with when a value could not be copied (names the state and key). */
    readonly copyFailure: (key: unknown, cause: unknown) => Error,
    /**
     * A stored value as the read of epoch `epoch` sees it: for a structure with HeldValue boxes,
     * the box's `prev` when it was saved for that read. Default: the stored value itself.
     */
    readonly resolve: (stored: V, epoch: number) => V | Absent = (stored) => stored,
  ) {}

  /**
   * True when incremental snapshots are possible: a checkpoint this structure took part in
   * completed, or its state was restored (changes are then relative to that checkpoint).
   */
  get hasBase(): boolean {
    return this.based;
  }

  /** Starts tracking as if a completed checkpoint held the current contents (after a restore; for a structure made after checkpoints began). */
  startFromBase(): void {
    this.tracking = true;
    this.based = true;
    this.onFlags?.();
  }

  /** Call (when `tracking`) before the value of `key` changes: set, delete, or a change in place. */
  change(key: unknown): void {
    if (key === this.lastChanged) return;
    this.lastChanged = key;
    this.changed.others.add(key);
    if (this.reading) this.preserve(key);
  }

  /**
   * Records that `key` changed in this epoch, without preserving anything: for a HeldValue box,
   * whose value at the mark `saveHeld` keeps.
   */
  record(key: unknown, holder: ChangeHolder & V): void {
    if (holder.changedIn === this.epoch) return;
    holder.changedIn = this.epoch;
    // Not `lastChanged`: a later `change` of this key (a delete) must still preserve its value.
    this.changed.addHeld(key, holder);
  }

  /**
   * Call (when `reading`) before a boxed value is replaced or handed out mutable, with the box and
   * the key's value now (ABSENT: none; for a box made just now, what the key held before). The
   * newest read, marked at the start of this epoch, finds the value in the box (`prev`): one field
   * write per key instead of a lookup and an insert in a Map of copies, which is what a snapshot
   * during which every key changes costs most. Older reads still running (concurrent checkpoints)
   * get their copies in their own Maps first, as `preserve` does.
   */
  saveHeld(key: unknown, now: V | Absent, holder: HeldValue<V>): void {
    const epoch = this.epoch;
    if (holder.savedIn === epoch) return;
    const reads = this.reads;
    for (let i = 0; i < reads.length; i++) {
      const read = reads[i] as TrackedRead<V>;
      if (read.epoch === epoch) continue;
      if (!read.wants(key)) continue;
      if (holder.savedIn === read.epoch) read.keep(key, holder.prev as V | Absent);
      else this.keepCopy(read, key, now);
    }
    const newest = reads[reads.length - 1];
    if (newest === undefined || newest.epoch !== epoch) return;
    try {
      holder.prev = now === ABSENT ? ABSENT : this.copy(now);
      holder.savedIn = epoch;
    } catch (error) {
      newest.fail(key, error);
    }
  }

  private keepCopy(read: TrackedRead<V>, key: unknown, value: V | Absent): void {
    try {
      read.keep(key, value === ABSENT ? ABSENT : this.copy(value));
    } catch (error) {
      read.fail(key, error);
    }
  }

  /**
   * `change(key)` unless `holder` (the key's own object in the structure) recorded it in this
   * epoch already. Safe while snapshots are read: every read was marked at or before the current
   * epoch began, so the key's first change in it preserved what they need.
   */
  changeOnce(key: unknown, holder: ChangeHolder): void {
    if (holder.changedIn === this.epoch) return;
    holder.changedIn = this.epoch;
    this.change(key);
  }

  /** Call (when `reading`) before handing out a value of `key` that its holder may change in place. */
  preserve(key: unknown): void {
    let live: V | undefined;
    let fetched = false;
    for (const read of this.reads) {
      if (!read.wants(key)) continue;
      if (!fetched) {
        live = this.live.get(key);
        fetched = true;
      }
      this.keepCopy(read, key, live === undefined ? ABSENT : this.resolve(live, read.epoch));
    }
  }

  /**
   * The mark of checkpoint `checkpointId`: from here on the returned read yields the values as
   * they are now. `mode` "incremental" (only valid with `hasBase`) reads the keys changed since
   * the last completed checkpoint, with ABSENT for deleted ones; "full" every live key.
   */
  mark(checkpointId: number, mode: SnapshotMode): TrackedRead<V> {
    if (!this.tracking) {
      this.tracking = true;
      this.firstMark = checkpointId;
    } else if (this.changed.size > 0) {
      this.sealed.push({ checkpointId, keys: this.changed });
      this.changed = new ChangeSet();
      if (this.sealed.length > 8) this.sealed = [mergeSealed(this.sealed)]; // a run of failed checkpoints
    }
    this.lastChanged = NO_KEY;
    this.epoch++;
    const changes = mode === "incremental" && this.based ? this.sealed.map((s) => s.keys) : undefined;
    const read = new TrackedRead<V>(this, this.live, changes, this.epoch);
    this.reads.push(read);
    this.reading = true;
    this.onFlags?.();
    return read;
  }

  /** Checkpoint `checkpointId` is durable: changes sealed at or before its mark need not be written again. */
  complete(checkpointId: number): void {
    if (checkpointId >= this.firstMark) this.based = true;
    let drop = 0;
    while (drop < this.sealed.length && (this.sealed[drop] as Sealed).checkpointId <= checkpointId) drop++;
    if (drop > 0) this.sealed = this.sealed.slice(drop);
  }

  /**
   * About how many keys changed since the last completed checkpoint: a key changed in several
   * epochs counts once per epoch, so it errs high. Cheap: set sizes only.
   */
  changedKeys(): number {
    let changes = this.changed.size;
    for (const sealed of this.sealed) changes += sealed.keys.size;
    return changes;
  }

  /**
   * Stops tracking, as before the first mark: nothing changed is remembered and there is no base,
   * so the next mark is full. Only while no snapshot is being read (their copy-on-write needs it).
   */
  stop(): void {
    if (this.reading) throw new Error("a change tracker cannot stop while a snapshot is read");
    this.tracking = false;
    this.based = false;
    this.firstMark = Number.POSITIVE_INFINITY;
    this.changed = new ChangeSet();
    this.sealed = [];
    this.lastChanged = NO_KEY;
    this.epoch++;
    this.onFlags?.();
  }

  /** Keys changed since the last completed checkpoint (tests, metrics). */
  pendingChanges(): number {
    const all = mergeSealed([...this.sealed, { checkpointId: Number.POSITIVE_INFINITY, keys: this.changed }]);
    return all.keys.size;
  }

  /** @internal The read ended: stop preserving for it. */
  release(read: TrackedRead<V>): void {
    const i = this.reads.indexOf(read);
    if (i >= 0) this.reads.splice(i, 1);
    this.reading = this.reads.length > 0;
    this.onFlags?.();
  }
}

function mergeSealed(sealed: readonly Sealed[]): Sealed {
  const keys = new ChangeSet();
  for (const s of sealed) for (const key of s.keys) keys.others.add(key);
  return { checkpointId: (sealed[sealed.length - 1] as Sealed).checkpointId, keys };
}

/** A preserved value that was read already: the key needs no further copy for this read. */
const READ = Symbol("read");

/**
 * One snapshot's view of one structure: its keys with their values at the mark, read once (in as
 * many steps as the reader likes, with processing in between), then released.
 *
 * Which keys: an incremental read goes through its sealed change sets (a key in several sets is
 * read from the last); a full read takes the live keys when reading starts (an array, much
 * cheaper than a set of read keys), plus keys deleted between the mark and then. Until released,
 * the first change of any key the read covers preserves its value, read or not: a copy per key
 * changed while the snapshot is written, no bookkeeping per key read.
 */
/** One snapshot's view of a structure, read once, then released (a TrackedRead, or a copy taken at the mark). */
export interface SnapshotRead<V> {
  readonly mode: SnapshotMode;
  entries<E>(entry: (key: unknown, value: V | Absent) => E): Generator<E, void, undefined>;
  release(): void;
}

/**
 * A snapshot taken by copying a Map's keys and values at the mark: for values that never change
 * in place (numbers, strings), so the copy is the state at the mark and nothing needs
 * copy-on-write while it is read. Full, or incremental when it holds only the keys whose values
 * differ from the last completed checkpoint's (a comparison of copies: never a deleted key).
 */
export class CopiedRead<V> implements SnapshotRead<V> {
  private released = false;
  constructor(
    /** The keys at the mark, owned by the read (a Float64Array when all are numbers). */
    readonly keys: ArrayLike<unknown>,
    /** Their values, in the same order. */
    readonly values: ArrayLike<V>,
    readonly mode: SnapshotMode = "full",
  ) {}

  *entries<E>(entry: (key: unknown, value: V | Absent) => E): Generator<E, void, undefined> {
    const { keys, values } = this;
    for (let i = 0; i < keys.length; i++) {
      if (this.released) return;
      yield entry(keys[i], values[i] as V);
    }
  }

  release(): void {
    this.released = true;
  }
}

export class TrackedRead<V> implements SnapshotRead<V> {
  /** Values at the mark of keys changed since (ABSENT: the key had none); READ once yielded. */
  private readonly preserved = new Map<unknown, V | Absent | typeof READ>();
  private released = false;
  private started = false;
  private failure: { key: unknown; error: unknown } | undefined;

  constructor(
    private readonly tracker: ChangeTracker<V>,
    private readonly live: ReadonlyMap<unknown, V>,
    /** The sealed change sets an incremental read covers; undefined for a full read. */
    private readonly changes: ReadonlyArray<ChangeSet> | undefined,
    /** @internal The tracker's epoch that began at this read's mark. */
    readonly epoch: number,
  ) {}

  get mode(): SnapshotMode {
    return this.changes === undefined ? "full" : "incremental";
  }

  /** @internal True when a change to `key` must preserve its value for this read. */
  wants(key: unknown): boolean {
    if (this.released || this.preserved.has(key)) return false;
    const changes = this.changes;
    if (changes === undefined) return true;
    for (let i = 0; i < changes.length; i++) if ((changes[i] as ChangeSet).has(key)) return true;
    return false;
  }

  /** @internal */
  keep(key: unknown, value: V | Absent): void {
    this.preserved.set(key, value);
  }

  /** @internal A value could not be copied: the read fails when it gets there (the record path goes on). */
  fail(key: unknown, error: unknown): void {
    this.failure ??= { key, error };
  }

  /**
   * The entries at the mark, each made by `entry` from the key and its value (ABSENT: deleted,
   * in an incremental read). A value not preserved is the live one: use it before the structure
   * changes again. Stops early once released.
   */
  *entries<E>(entry: (key: unknown, value: V | Absent) => E): Generator<E, void, undefined> {
    if (this.started) throw new Error("a snapshot's entries are read once");
    this.started = true;
    const changes = this.changes;
    if (changes === undefined) {
      // Keys deleted between the mark and now are preserved and no longer live.
      const deleted: unknown[] = [];
      for (const [key, value] of this.preserved) if (value !== ABSENT && !this.live.has(key)) deleted.push(key);
      // Keys and values as they are now, copied in the Map's own order (sequential, so cheap):
      // a value that changed since the mark was preserved or saved in its box, and one that
      // changes later is preserved before it does, so `values[i]` never needs a lookup by key.
      const keys = Array.from(this.live.keys());
      const values = Array.from(this.live.values());
      for (let i = 0; i < keys.length; i++) {
        if (this.released) return;
        this.check();
        const key = keys[i];
        const value = this.atMarkFrom(key, values[i] as V);
        if (value !== ABSENT) yield entry(key, value); // ABSENT: added after the mark
      }
      for (let i = 0; i < deleted.length; i++) {
        if (this.released) return;
        this.check();
        const key = deleted[i];
        const value = this.atMark(key);
        if (value !== ABSENT) yield entry(key, value);
      }
      return;
    }
    for (let s = 0; s < changes.length; s++) {
      const set = changes[s] as ChangeSet;
      for (const key of set.others) {
        if (this.released) return;
        this.check();
        if (inLater(changes, s, key)) continue; // read from the last set holding it
        yield entry(key, this.atMark(key));
      }
      // A key's box recorded in the last set holding it is still its stored value at the mark:
      // the box is replaced only after a delete, which puts the key in `others`.
      const { held, others } = set;
      for (let i = 0; i < held.length; i += 2) {
        if (this.released) return;
        this.check();
        const key = held[i];
        if (others.has(key) || inLater(changes, s, key)) continue;
        yield entry(key, this.atMarkFrom(key, held[i + 1] as V));
      }
    }
  }

  /** Stops preserving values for this read. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.preserved.clear();
    this.tracker.release(this);
  }

  /** `atMark` for a key whose stored value (at the start of reading) is `stored`. */
  private atMarkFrom(key: unknown, stored: V): V | Absent {
    if (this.preserved.size > 0) {
      const saved = this.preserved.get(key);
      if (saved !== undefined) {
        this.preserved.set(key, READ);
        return saved as V | Absent;
      }
    }
    return this.tracker.resolve(stored, this.epoch);
  }

  private atMark(key: unknown): V | Absent {
    if (this.preserved.size > 0) {
      const saved = this.preserved.get(key);
      if (saved !== undefined) {
        this.preserved.set(key, READ);
        return saved as V | Absent;
      }
    }
    const value = this.live.get(key);
    return value === undefined ? ABSENT : this.tracker.resolve(value, this.epoch);
  }

  private check(): void {
    if (this.failure !== undefined) {
      const { key, error } = this.failure;
      throw this.tracker.copyFailure(key, error);
    }
  }
}

function inLater(sets: ReadonlyArray<ChangeSet>, index: number, key: unknown): boolean {
  for (let i = index + 1; i < sets.length; i++) if ((sets[i] as ChangeSet).has(key)) return true;
  return false;
}
