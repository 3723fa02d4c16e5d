import { describeRecord, KeyflowError } from "@keyflow/functions-sdk";
import { PartitionOutOfRangeError } from "../partition/errors.js";

/**
 * A user function threw. Names the operator, the shard and the record it was given; the job
 * fails (or restarts, once restart strategies exist). Terminal for this attempt.
 */
export class UserFunctionError extends KeyflowError {
  readonly code = "USER_FUNCTION_FAILED";
  constructor(
    readonly operator: string,
    readonly shard: string,
    readonly record: string,
    cause: unknown,
  ) {
    super(`operator "${operator}" (shard ${shard}) failed on record ${record}: ${messageOf(cause)}`, { cause });
  }

  static of(operator: string, shard: string, record: unknown, cause: unknown): UserFunctionError {
    return new UserFunctionError(operator, shard, describeRecord(record), cause);
  }
}

/**
 * True for an error the record path raised below a user function: a chained operator's
 * UserFunctionError, or a partitioner's PartitionOutOfRangeError from a record writer the
 * function emitted into. It already names what failed, so an operator up the chain rethrows it
 * as it is instead of blaming its own function.
 */
export function isRecordPathFailure(
  error: unknown,
): error is UserFunctionError | PartitionOutOfRangeError | InvalidTimestampError {
  return (
    error instanceof UserFunctionError ||
    error instanceof PartitionOutOfRangeError ||
    error instanceof InvalidTimestampError
  );
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A record's event timestamp could not be read: the assigner returned something that is not a
 * number (or NaN), or an event-time operator got a record without one. Names the operator, the
 * shard and the record. Terminal, unless the watermark strategy routes such records to a side
 * output (`withInvalidTimestampsTo(tag)`).
 */
export class InvalidTimestampError extends KeyflowError {
  readonly code = "RECORD_TIMESTAMP_INVALID";
  constructor(
    readonly operator: string,
    readonly shard: string,
    readonly record: string,
    problem: string,
  ) {
    super(`operator "${operator}" (shard ${shard}): record ${record} ${problem}`);
  }
}

/** Why `timestamp` is not a usable event time, or undefined when it is. */
export function timestampProblem(timestamp: unknown): string | undefined {
  if (typeof timestamp !== "number") {
    return timestamp === undefined
      ? "has no timestamp (the assigner returned undefined)"
      : `has no numeric timestamp (the assigner returned a ${typeof timestamp}: ${describeRecord(timestamp, 40)})`;
  }
  if (Number.isNaN(timestamp)) return "has no timestamp (NaN)";
  if (!Number.isFinite(timestamp)) return `has an infinite timestamp (${timestamp})`;
  return undefined;
}
