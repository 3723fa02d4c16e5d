import { KeyflowError } from "@keyflow/functions-sdk";

/** A checkpoint or savepoint holds state of operators the job no longer has. Terminal, unless allowed. */
export class NonRestoredStateError extends KeyflowError {
  readonly code = "CHECKPOINT_STATE_NOT_RESTORED";
  constructor(
    readonly checkpointId: number,
    readonly uids: readonly string[],
  ) {
    super(
      `checkpoint ${checkpointId} holds state of operators this job does not have (uids ${uids.join(", ")}); ` +
        "give those operators back their uids, or allow non-restored state to drop it",
    );
  }
}

/**
 * A follower (a node of a checkpointed cluster, or a worker thread) could not learn from the
 * leader, which keeps the checkpoints, what to restore: it did not answer in time. Retriable once
 * the leader runs. (The code keeps its cluster name: it was the cluster's error first.)
 */
export class CheckpointLeaderUnreachableError extends KeyflowError {
  readonly code = "CLUSTER_CHECKPOINT_LEADER_UNREACHABLE";
  override readonly retriable = true;
  constructor(leader: string, waitedMs: number, cause: unknown) {
    super(`${leader} (it keeps the job's checkpoints) did not say what to restore within ${Math.round(waitedMs)} ms`, {
      cause,
    });
  }
}

/** A restore request reached the leader, which could not answer it (its error message included). */
export class RestoreRequestError extends KeyflowError {
  readonly code = "CHECKPOINT_RESTORE_REQUEST_FAILED";
  constructor(leader: string, request: string, reason: string) {
    super(`${leader} could not answer a ${request} restore request: ${reason}`);
  }
}

/**
 * An unaligned checkpoint holds records that were in flight into the shards of an operator, and the
 * job would restore it at another parallelism: those records belong to the old shards' channels.
 * Terminal: restore it at its parallelism, or rescale from a savepoint (always aligned).
 */
export class UnalignedRescaleError extends KeyflowError {
  readonly code = "CHECKPOINT_UNALIGNED_RESCALE";
  constructor(
    readonly checkpointId: number,
    readonly uid: string,
    readonly storedParallelism: number,
    readonly parallelism: number,
  ) {
    super(
      `checkpoint ${checkpointId} is unaligned and holds in-flight records of operator "${uid}" at ` +
        `parallelism ${storedParallelism}; it cannot be restored at parallelism ${parallelism}. ` +
        "Restore it at its parallelism, or rescale from a savepoint",
    );
  }
}
