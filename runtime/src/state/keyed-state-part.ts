import type { SnapshotMode } from "../util/change-tracker.js";
import type { KeyedStateEntry } from "./snapshot.js";

/**
 * One piece of an operator's keyed state that checkpoints on its own: a state backend, a timer
 * service, a window table. The operator's OperatorStateSnapshots marks every part at the barrier
 * with the same mode, chains their entries into one snapshot, and routes restored entries to the
 * part that owns their state name.
 */
export interface KeyedStatePart {
  /** True when this part can snapshot incrementally (see ChangeTracker.hasBase). */
  readonly hasBase: boolean;
  /** The mark of checkpoint `checkpointId`: synchronous and O(1); entries are read later. */
  snapshot(checkpointId: number, mode: SnapshotMode): KeyedPartSnapshot;
  checkpointComplete(checkpointId: number): void;
  /** True when entries of the state `name` belong to this part. */
  owns(name: string): boolean;
  /** Puts one restored entry back (before the first record). */
  restoreEntry(entry: KeyedStateEntry): void;
  /** Every entry is back: start tracking changes from here (and schedule what needs scheduling). */
  restored(): void;
}

/** A part's share of one snapshot: its entries at the mark, read once, then released. */
export interface KeyedPartSnapshot {
  readonly entries: Iterable<KeyedStateEntry>;
  release(): void;
}

/** A part's share of a snapshot that has nothing to say. */
export const NO_ENTRIES: KeyedPartSnapshot = { entries: [], release() {} };
