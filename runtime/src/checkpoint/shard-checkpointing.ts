import type { InFlightBatch, OperatorRestore, OperatorSnapshot } from "../state/snapshot.js";

/** What a shard hands over once it took its snapshot for a checkpoint. */
export interface ShardSnapshotReport {
  readonly checkpointId: number;
  readonly savepoint: boolean;
  readonly vertexId: number;
  readonly shardIndex: number;
  /** One per stateful operator of the shard's chain (a source's split positions included). */
  readonly snapshots: readonly OperatorSnapshot[];
}

/**
 * How a shard takes part in checkpoints, given by its host. Called on the shard's thread.
 * `restoreFor` and `restoredSplits` are answered from state the host loaded before the shard
 * started (the latest completed checkpoint, or a savepoint); without them the shard starts empty.
 */
export interface ShardCheckpointing {
  onSnapshot(report: ShardSnapshotReport): void;
  /** A newer barrier overtook checkpoint `checkpointId` while it aligned: it cannot complete. */
  onAbandoned(checkpointId: number, shardName: string): void;
  /** State of the operator `uid` for this shard, or undefined when there is none to restore. */
  restoreFor(uid: string, shardIndex: number, parallelism: number): OperatorRestore | undefined;
  /** The source splits this source shard resumes, or undefined on a fresh start. */
  restoredSplits(uid: string, shardIndex: number, parallelism: number): unknown[] | undefined;
  /**
   * Records that were in flight into this shard (whose head operator is `uid`) at the unaligned
   * checkpoint restored: the shard processes them before anything from its inputs.
   */
  restoredInFlight?(uid: string, shardIndex: number, parallelism: number): readonly InFlightBatch[] | undefined;
}

/** Operator list state under which a source keeps its split positions. */
export const SOURCE_SPLITS_STATE = "source-splits";
