import { KeyflowError } from "@keyflow/functions-sdk";

// NonRestoredStateError and UnalignedRescaleError are raised where a restore is loaded (checkpoint-protocol/); this folder's users import it from here.
export { NonRestoredStateError, UnalignedRescaleError } from "../checkpoint-protocol/errors.js";

/**
 * Stop-with-savepoint: the savepoint completed, but the job's sources finished before the job
 * could stop there, so its results go past the savepoint and the run ended "finished", not
 * "stopped". The savepoint stays usable. Terminal for this run.
 */
export class JobEndedBeforeStopError extends KeyflowError {
  readonly code = "JOB_ENDED_BEFORE_STOP";
  constructor(readonly savepointId: number) {
    super(
      `the job ended before it could stop at savepoint ${savepointId}: the savepoint is complete, ` +
        "but the job's results go past it (its sources finished)",
    );
  }
}
