import type { KeyGroupRange } from "../partition/key-groups.js";
import type { KeyedStateEntry, OperatorSnapshot } from "../state/snapshot.js";

/** What a completed checkpoint or savepoint says of itself; written last, atomically. */
export interface CheckpointMetadata {
  readonly id: number;
  readonly kind: "checkpoint" | "savepoint";
  /** When it was triggered (ms since the epoch, the coordinator's clock). */
  readonly timestamp: number;
  readonly jobName: string;
  readonly maxParallelism: number;
  /** Per operator uid: how it ran when the checkpoint was taken. */
  readonly operators: Readonly<Record<string, { parallelism: number; maxParallelism: number; shards: number }>>;
  readonly format: 1;
}

/**
 * Where checkpoints go: the LevelDB store (`state/store/`) or memory. Writes of one checkpoint
 * may run concurrently; `complete` is called once all of them succeeded and must make the
 * checkpoint visible atomically; a checkpoint that was not completed is never restored.
 */
export interface CheckpointStorage {
  writeSnapshot(checkpointId: number, shardIndex: number, snapshot: OperatorSnapshot): Promise<void>;
  complete(metadata: CheckpointMetadata): Promise<void>;
  abort(checkpointId: number): Promise<void>;
  /** The newest completed checkpoint that can be read, or undefined. */
  latestCompleted(): Promise<CheckpointMetadata | undefined>;
  restoreKeyed(checkpointId: number, uid: string, range: KeyGroupRange): AsyncIterable<KeyedStateEntry>;
  restoreOperatorState(
    checkpointId: number,
    uid: string,
    shardIndex: number,
    parallelism: number,
  ): Promise<Record<string, unknown[]>>;
}
