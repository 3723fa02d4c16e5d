import type { SnapshotMode } from "../util/change-tracker.js";
import type { ColumnarKeyed, KeyedStateEntry } from "./snapshot.js";

/**
 * One piece of an operator's keyed state that checkpoints on its own: a state backend, a timer
 * service, a window table. The operator's OperatorStateSnapshots marks every part at the barrier
 * with the same mode, chains their entries into one snapshot, and routes restored entries to the
 * part that owns their state name.
 */
export interface KeyedStatePart {
  /**
   * Checkpoint `checkpointId`'s mark comes next: a part that copies its state at the mark copies
   * now, so that `hasBase` and `changes` can tell what the copy found. Optional.
   */
  prepare?(checkpointId: number): void;
  /** True when this part can snapshot incrementally (see ChangeTracker.hasBase). */
  readonly hasBase: boolean;
  /**
   * About how many of the keys it holds changed since the last completed checkpoint (see
   * ChangeTracker.changedKeys); absent: unknown, taken as few.
   */
  changes?(): { readonly changed: number; readonly keys: number };
  /** The mark of checkpoint `checkpointId`: synchronous and O(1); entries are read later. */
  snapshot(checkpointId: number, mode: SnapshotMode): KeyedPartSnapshot;
  checkpointComplete(checkpointId: number): void;
  /** True when entries of the state `name` belong to this part. */
  owns(name: string): boolean;
  /** Puts one restored entry back (before the first record). */
  restoreEntry(entry: KeyedStateEntry): void;
  /** Every entry is back: start tracking changes from here (and schedule what needs scheduling). */
  restored(): void;
  /**
   * The schema version of each state this part declares (see StateDescriptor.version), written
   * with every snapshot. A part without it (internal state: timers, windows) is at version 1.
   */
  stateVersions?(): Readonly<Record<string, number>>;
  /**
   * Before any entry of state `name` is restored: its values were stored at `storedVersion`,
   * lower than the part's. Returns false when the state has no migrate hook; else every value
   * restored from now on is migrated (a hook that throws raises MigrationFailure), and the part
   * has no base afterwards, so the next snapshot is full: the stored chain holds old versions.
   */
  migrateFrom?(name: string, storedVersion: number): boolean;
}

/** A part's share of one snapshot: its entries at the mark, read once, then released. */
export interface KeyedPartSnapshot {
  readonly entries: Iterable<KeyedStateEntry>;
  /** The same entries as columns copied at the mark plus the rest (see OperatorSnapshot.columnar). */
  readonly columnar?: ColumnarKeyed;
  release(): void;
}

/** A part's share of a snapshot that has nothing to say. */
export const NO_ENTRIES: KeyedPartSnapshot = { entries: [], release() {} };
