import type { KeyGroupRange } from "../partition/key-groups.js";
import type { InFlightBatch, KeyedStateEntry, OperatorSnapshot } from "../state/snapshot.js";
import type { CheckpointMetadata } from "../state/store/records.js";

export type { CheckpointMetadata } from "../state/store/records.js";

/**
 * Where checkpoints go: the LevelDB store (`state/store/`) or memory. Writes of one checkpoint
 * may run concurrently; `complete` is called once all of them succeeded and must make the
 * checkpoint visible atomically; a checkpoint that was not completed is never restored.
 */
export interface CheckpointStorage {
  writeSnapshot(checkpointId: number, shardIndex: number, snapshot: OperatorSnapshot): Promise<unknown>;
  complete(metadata: CheckpointMetadata): Promise<void>;
  abort(checkpointId: number): Promise<void>;
  /**
   * The newest completed checkpoint that reads back whole, falling back past damaged ones, with
   * the damage found (each error names its checkpoint). Storages that cannot be damaged omit it.
   */
  latestUsable?(): Promise<{ checkpoint: CheckpointMetadata | undefined; damage: readonly Error[] }>;
  /** The highest checkpoint id it holds or writes: new checkpoints take higher ones. */
  readonly lastCheckpointId?: number;
  /** The newest completed checkpoint, or undefined. */
  latestCompleted(): CheckpointMetadata | undefined | Promise<CheckpointMetadata | undefined>;
  restoreKeyed(checkpointId: number, uid: string, range: KeyGroupRange): AsyncIterable<KeyedStateEntry>;
  /** The same entries in batches, when the storage reads them so. */
  restoreKeyedBatches?(
    checkpointId: number,
    uid: string,
    range: KeyGroupRange,
  ): AsyncIterable<readonly KeyedStateEntry[]>;
  /**
   * The version each keyed state of `uid` was stored at in checkpoint `checkpointId`; undefined
   * when the checkpoint records none (every state at version 1). Storages without versions omit it.
   */
  restoreStateVersions?(
    checkpointId: number,
    uid: string,
  ): Readonly<Record<string, number>> | undefined | Promise<Readonly<Record<string, number>> | undefined>;
  /**
   * The records in flight into shard `shardIndex` of operator `uid` (a shard's head operator) at
   * unaligned checkpoint `checkpointId`, in replay order; empty when it holds none. Storages that
   * cannot hold them omit it, and then every checkpoint they take must be aligned.
   */
  restoreInFlight?(
    checkpointId: number,
    uid: string,
    shardIndex: number,
  ): readonly InFlightBatch[] | Promise<readonly InFlightBatch[]>;
  restoreOperatorState(
    checkpointId: number,
    uid: string,
    shardIndex: number,
    parallelism: number,
  ): Record<string, unknown[]> | Promise<Record<string, unknown[]>>;
}
