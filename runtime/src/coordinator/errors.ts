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
