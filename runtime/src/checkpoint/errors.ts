import { KeyflowError } from "@keyflow/functions-sdk";

/** A source whose reader cannot report its position runs in a job that takes checkpoints. Terminal. */
export class SourceNotCheckpointableError extends KeyflowError {
  readonly code = "CHECKPOINT_SOURCE_UNSUPPORTED";
  constructor(readonly operator: string) {
    super(
      `operator "${operator}": its source reader has no snapshotSplits(), so its position cannot be checkpointed; ` +
        "implement snapshotSplits() (and read context.restoredSplits), or run the job without checkpoints",
    );
  }
}

/**
 * A checkpoint or savepoint asked for on request (the API, `keyflow savepoint`) could not start:
 * `reason` says why (a source has finished, the job is stopping or restarting, one is in flight).
 * Retriable: asking again later may succeed, unless the job has ended.
 */
export class CheckpointRefusedError extends KeyflowError {
  readonly code = "CHECKPOINT_REFUSED";
  override readonly retriable = true;
  constructor(
    readonly kind: "checkpoint" | "savepoint",
    readonly reason: string,
  ) {
    super(`cannot take a ${kind} now: ${reason}`);
  }
}

/**
 * A checkpoint or savepoint asked for on request was aborted before it completed (a shard
 * abandoned it, it timed out, its writes or metadata failed, the job stopped): nothing of it is
 * restorable. Retriable: ask again.
 */
export class CheckpointFailedError extends KeyflowError {
  readonly code = "CHECKPOINT_FAILED";
  override readonly retriable = true;
  constructor(
    readonly checkpointId: number,
    readonly kind: "checkpoint" | "savepoint",
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`${kind} ${checkpointId} was aborted: ${reason}`, options);
  }
}
