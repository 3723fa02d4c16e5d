import { describeRecord } from "@keyflow/functions-sdk";
import { keyOfMapKey } from "../partition/canonical-key.js";
import type { KeyGroupRange } from "../partition/key-groups.js";
import type { SnapshotMode } from "../util/change-tracker.js";
import { StateMigrationError, StateRestoreError, StateVersionError } from "./errors.js";
import type { KeyedPartSnapshot, KeyedStatePart } from "./keyed-state-part.js";
import { MigrationFailure } from "./migration.js";
import type {
  KeyedStateEntry,
  OperatorListState,
  OperatorRestore,
  OperatorSnapshot,
  Snapshotable,
} from "./snapshot.js";

/** Operator (non-keyed) list state of one operator: broadcast state, source positions. Small; copied at the mark. */
export interface OperatorListStatePart {
  /** The lists as they are now, owned by the snapshot. */
  snapshot(): Readonly<Record<string, OperatorListState>>;
  /** Restores from the lists of a checkpoint (every name, possibly empty lists). */
  restore(state: Readonly<Record<string, readonly unknown[]>>): void;
}

export interface OperatorStateSnapshotsOptions {
  /** The operator's uid (state is matched by it on restore). */
  readonly uid: string;
  /** The operator (and shard), for errors. */
  readonly owner: string;
  /** The key groups the shard owns. */
  readonly keyGroups: KeyGroupRange;
  readonly keyed: readonly KeyedStatePart[];
  readonly list?: OperatorListStatePart;
}

/**
 * The share of keys changed since the last completed checkpoint above which a snapshot is full
 * even where it could be incremental. An incremental record of most keys costs as much to write
 * as a full one, and then its chain must be compacted (read back, merged, rewritten) once its
 * records outweigh the base, so the store writes everything twice; a full record starts a new
 * chain instead. Measured on the checkpoints benchmark (a million keys, every key changed
 * between checkpoints): compaction was about a quarter of each checkpoint's cost.
 */
export const FULL_WHEN_CHANGED = 0.5;
/** Below this many keys a part's snapshot costs too little for the choice to matter: it stays incremental. */
const FULL_WHEN_KEYS_AT_LEAST = 10_000;

function mostlyChanged(part: KeyedStatePart): boolean {
  const changes = part.changes?.();
  return (
    changes !== undefined &&
    changes.keys >= FULL_WHEN_KEYS_AT_LEAST &&
    changes.changed > FULL_WHEN_CHANGED * changes.keys
  );
}

/**
 * The checkpointed state of one operator in one shard, made of parts (a keyed state backend, a
 * timer service, window tables, list state): the Snapshotable the operator hands to the shard.
 *
 * `snapshot` marks every part with one mode: incremental only when every part has a base (a
 * completed checkpoint or a restore), else full, and says which in the OperatorSnapshot. Its
 * `keyed` entries are the parts' entries one after the other, read once. `restore` routes each
 * entry to the part owning its state name; an entry of a state no part owns, or of a key group
 * outside the shard's range, is a StateRestoreError, never dropped silently.
 *
 * Versions: snapshots carry every part's state versions. A restore first compares the stored
 * version of each state it has a part for with the part's: equal restores as is; lower with a
 * migrate hook migrates every value of that state as it is restored (eagerly, like the restore
 * itself: a hook that fails must fail the restore, not a record hours later, and the state a
 * function sees is then all of one version); higher, or lower without a hook, is a
 * StateVersionError before any entry is read.
 */
export class OperatorStateSnapshots implements Snapshotable {
  private readonly byState = new Map<string, KeyedStatePart>();
  /** States whose stored version was checked in this restore, with the versions of those that migrate. */
  private readonly checked = new Map<string, { from: number; to: number } | undefined>();

  constructor(private readonly options: OperatorStateSnapshotsOptions) {}

  snapshot(checkpointId: number, requested: SnapshotMode): OperatorSnapshot {
    const { keyed, list } = this.options;
    for (const part of keyed) part.prepare?.(checkpointId);
    const mode =
      requested === "incremental" && keyed.every((part) => part.hasBase && !mostlyChanged(part))
        ? "incremental"
        : "full";
    const parts: KeyedPartSnapshot[] = keyed.map((part) => part.snapshot(checkpointId, mode));
    const operatorState = list?.snapshot() ?? {};
    const columns = parts.flatMap((part) => part.columnar?.columns ?? []);
    const stateVersions: Record<string, number> = {};
    for (const part of keyed) Object.assign(stateVersions, part.stateVersions?.());
    let released = false;
    /** The parts' entries one after the other (each part's `pick`), until the snapshot is released. */
    const chained = (pick: (part: KeyedPartSnapshot) => Iterable<KeyedStateEntry>): Iterable<KeyedStateEntry> => ({
      *[Symbol.iterator]() {
        for (const part of parts) {
          if (released) return;
          yield* pick(part);
        }
      },
    });
    return {
      uid: this.options.uid,
      mode,
      keyGroups: this.options.keyGroups,
      keyed: chained((part) => part.entries),
      ...(columns.length === 0
        ? {}
        : { columnar: { columns, rest: chained((part) => part.columnar?.rest ?? part.entries) } }),
      operatorState,
      stateVersions,
      release() {
        if (released) return;
        released = true;
        for (const part of parts) part.release();
      },
    };
  }

  restore(state: OperatorRestore): void | Promise<void> {
    const list = this.options.list;
    if (list !== undefined) list.restore(state.operatorState);
    else {
      for (const [name, items] of Object.entries(state.operatorState)) {
        if (items.length > 0) throw new StateRestoreError(this.options.owner, name, "the operator has no list state");
      }
    }
    this.checked.clear();
    for (const [name, version] of Object.entries(state.stateVersions ?? {})) {
      const part = this.partOf(name);
      // A state no part owns is not checked: its entries, if any, fail the restore below.
      if (part !== undefined) this.checkVersion(name, part, version);
    }
    if (state.keyedBatches !== undefined) return this.restoreBatches(state.keyedBatches);
    const keyed = state.keyed;
    if (Symbol.asyncIterator in keyed) return this.restoreAsync(keyed as AsyncIterable<KeyedStateEntry>);
    for (const entry of keyed as Iterable<KeyedStateEntry>) this.restoreEntry(entry);
    this.restored();
  }

  checkpointComplete(checkpointId: number): void {
    for (const part of this.options.keyed) part.checkpointComplete(checkpointId);
  }

  private async restoreBatches(batches: AsyncIterable<readonly KeyedStateEntry[]>): Promise<void> {
    for await (const batch of batches) for (const entry of batch) this.restoreEntry(entry);
    this.restored();
  }

  private async restoreAsync(keyed: AsyncIterable<KeyedStateEntry>): Promise<void> {
    for await (const entry of keyed) this.restoreEntry(entry);
    this.restored();
  }

  private restoreEntry(entry: KeyedStateEntry): void {
    const { start, end } = this.options.keyGroups;
    if (!(entry.keyGroup >= start && entry.keyGroup <= end)) {
      throw new StateRestoreError(
        this.options.owner,
        entry.state,
        `an entry of key group ${entry.keyGroup} came to a shard owning key groups ${start}..${end}`,
      );
    }
    const part = this.partOf(entry.state);
    if (part === undefined) {
      throw new StateRestoreError(this.options.owner, entry.state, "the operator has no state of that name");
    }
    // A state the checkpoint lists no version for was stored at version 1 (format 1, internal state).
    if (!this.checked.has(entry.state)) this.checkVersion(entry.state, part, 1);
    try {
      part.restoreEntry(entry);
    } catch (error) {
      if (error instanceof StateRestoreError) throw error;
      const versions = this.checked.get(entry.state);
      if (error instanceof MigrationFailure && versions !== undefined) {
        const key = describeRecord(keyOfMapKey(error.mapKey));
        throw new StateMigrationError(this.options.uid, entry.state, key, versions.from, versions.to, error.cause);
      }
      throw new StateRestoreError(
        this.options.owner,
        entry.state,
        `an entry does not decode: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
  }

  private partOf(name: string): KeyedStatePart | undefined {
    let part = this.byState.get(name);
    if (part === undefined) {
      part = this.options.keyed.find((p) => p.owns(name));
      if (part !== undefined) this.byState.set(name, part);
    }
    return part;
  }

  /** Accepts state `name` stored at `stored`, arranging its migration, or throws StateVersionError. */
  private checkVersion(name: string, part: KeyedStatePart, stored: number): void {
    const declared = part.stateVersions?.()[name] ?? 1;
    if (stored === declared) {
      this.checked.set(name, undefined);
      return;
    }
    if (stored > declared || part.migrateFrom?.(name, stored) !== true) {
      throw new StateVersionError(this.options.uid, name, stored, declared);
    }
    this.checked.set(name, { from: stored, to: declared });
  }

  private restored(): void {
    for (const part of this.options.keyed) part.restored();
  }
}
