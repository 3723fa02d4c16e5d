import { KeyflowError } from "@keyflow/functions-sdk";
import type { SerializedError } from "../util/serialized-error.js";

/**
 * A job stopped because a shard failed. `reason` is the failure as it crossed threads: its `code`
 * says what happened (USER_FUNCTION_FAILED, PARTITION_OUT_OF_RANGE, …) and `details` names the
 * operator, shard and record. Terminal for this run.
 */
export class JobFailedError extends KeyflowError {
  readonly code = "JOB_FAILED";
  constructor(
    readonly jobName: string,
    readonly reason: SerializedError,
  ) {
    super(`job "${jobName}" failed: ${reason.message}`);
  }
}

/** The job was cancelled before it finished. */
export class JobCancelledError extends KeyflowError {
  readonly code = "JOB_CANCELLED";
  constructor(readonly jobName: string) {
    super(`job "${jobName}" was cancelled`);
  }
}
