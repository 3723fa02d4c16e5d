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
