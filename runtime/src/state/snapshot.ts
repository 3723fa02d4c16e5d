import type { KeyGroupRange } from "../partition/key-groups.js";

/**
 * What a checkpoint holds of one operator in one shard, as the operator hands it to the
 * checkpoint store. The format every stateful operator writes and reads; the store persists it
 * (LevelDB, incrementally) and gives entries back by key group on restore, at any parallelism.
 *
 * Lifecycle: at a barrier the operator returns a snapshot synchronously (a copy-on-write mark,
 * not a copy of its state); the store then reads `keyed` asynchronously while the shard keeps
 * processing, and calls `release()` when it is done (written, or the checkpoint was aborted).
 */
export interface OperatorSnapshot {
  /** The operator's uid: state is matched to operators by uid on restore. */
  readonly uid: string;
  /**
   * "full": `keyed` holds every live entry of `keyGroups` and replaces whatever the store had for
   * them; "incremental": only what changed since the operator's last *completed* checkpoint
   * (a deletion is an entry whose value is DELETED).
   */
  readonly mode: "full" | "incremental";
  /** The key groups this snapshot speaks for (the shard's range). */
  readonly keyGroups: KeyGroupRange;
  /**
   * Keyed state entries, read once, possibly across many event-loop turns while the shard keeps
   * processing: values are as they were at the mark (msgpack-encodable; Maps already turned into
   * arrays of pairs). A value whose key changed after the mark is a copy the snapshot owns; the
   * value of a key that did not change is the operator's live object (copying every value would
   * make a full snapshot a copy of the state), so a reader encodes (or copies) each entry before
   * it lets the shard run again: the store encodes each chunk it reads before awaiting its write.
   */
  readonly keyed: Iterable<KeyedStateEntry>;
  /**
   * Operator (non-keyed) list state by name: source positions, broadcast state. Small, always
   * full. On restore at another parallelism "split" lists are dealt out evenly over the new
   * shards and "union" lists are given whole to every shard (Flink's list and union list state).
   */
  readonly operatorState: Readonly<Record<string, OperatorListState>>;
  /**
   * The schema version of each keyed state the operator declares (StateDescriptor.version),
   * stored with the snapshot; a state not named here is at version 1. Absent: all at version 1.
   */
  readonly stateVersions?: Readonly<Record<string, number>>;
  /**
   * Records of an unaligned checkpoint that were on their way into the shard when it took its
   * snapshot (store format 3): in the order the shard took them, to be processed again by this
   * operator, the head of its shard's chain, before anything else after a restore. Only the head
   * operator's snapshot carries them; absent for aligned checkpoints and savepoints.
   */
  readonly inFlight?: readonly InFlightBatch[];
  /**
   * The same entries split for a writer that can encode columns on another thread: states copied
   * at the mark as columns, and the `rest` of `keyed`. A writer reads either `keyed` or this,
   * never both. Absent when no state was copied.
   */
  readonly columnar?: ColumnarKeyed;
  /** The store has read everything (or gave up): the operator stops preserving values for it. */
  release(): void;
}

/** A column of a copied state: numbers in a Float64Array (on a SharedArrayBuffer, read by the encoder's thread in place), other values in an array. */
export type SnapshotColumn = Float64Array | readonly unknown[];

/**
 * Every live entry of one state, copied at a snapshot's mark: keys in Map-key form and values as a
 * snapshot holds them, both immutable (numbers, strings, booleans), so they can be encoded on any
 * thread at any time. Key groups are derived from the keys with `maxParallelism`.
 */
export interface KeyedColumns {
  readonly state: string;
  readonly maxParallelism: number;
  readonly keys: SnapshotColumn;
  readonly values: SnapshotColumn;
}

/** A snapshot's keyed entries as copied columns plus the entries read the usual way. */
export interface ColumnarKeyed {
  readonly columns: readonly KeyedColumns[];
  readonly rest: Iterable<KeyedStateEntry>;
}

/**
 * A batch of in-flight records: which input of the head operator it came on (0, or 1 for the
 * second input of a two-input operator; not the channel, so the data does not depend on the
 * upstream parallelism), and the records with their timestamps (NaN: none) as they arrived.
 */
export interface InFlightBatch {
  readonly input: number;
  readonly values: readonly unknown[];
  readonly timestamps: readonly number[] | undefined;
}

export interface OperatorListState {
  readonly distribution: "split" | "union";
  readonly items: readonly unknown[];
}

/** A keyed state entry was deleted since the last completed checkpoint (incremental snapshots only). */
export const DELETED: unique symbol = Symbol("deleted");

/**
 * One entry of keyed state: key group, state name (a declared state's name, or an operator's
 * internal table such as "__timers/event" or "__windows"), the key in Map-key form (primitives
 * as they are, tuples canonical), and the value (msgpack-encodable) or DELETED.
 */
export interface KeyedStateEntry {
  readonly keyGroup: number;
  readonly state: string;
  readonly key: unknown;
  readonly value: unknown;
}

/** What an operator gets back on restore: its entries for the key groups its shard now owns, and its list state. */
export interface OperatorRestore {
  readonly keyed: AsyncIterable<KeyedStateEntry> | Iterable<KeyedStateEntry>;
  /**
   * The same entries in batches, when the storage reads them so (one promise per batch instead of
   * per entry: measured twice as fast on a million keys); preferred over `keyed` when present.
   */
  readonly keyedBatches?: AsyncIterable<readonly KeyedStateEntry[]>;
  readonly operatorState: Readonly<Record<string, readonly unknown[]>>;
  /**
   * The version each keyed state was stored at; a state not named here, or every state when this
   * is absent (a checkpoint of store format 1), was stored at version 1. The operator checks them
   * against its descriptors before the first entry and migrates older values as it restores them.
   */
  readonly stateVersions?: Readonly<Record<string, number>>;
}

/**
 * An operator (or a part of one: a state backend, a timer service, a window table) whose state
 * is checkpointed. `snapshot` runs at the barrier, synchronously; `restore` before the first
 * record; `checkpointComplete` tells it checkpoint `id` is durable, so changes up to that
 * snapshot need not be written again.
 */
export interface Snapshotable {
  snapshot(checkpointId: number, mode: "full" | "incremental"): OperatorSnapshot;
  restore(state: OperatorRestore): void | Promise<void>;
  checkpointComplete(checkpointId: number): void;
}
