import { describeRecord, KeyflowError } from "@keyflow/functions-sdk";

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

/** A custom partitioner chose a shard that does not exist. */
export class PartitionOutOfRangeError extends KeyflowError {
  readonly code = "PARTITION_OUT_OF_RANGE";
  constructor(
    readonly operator: string,
    readonly chosen: unknown,
    readonly shards: number,
    record: unknown,
  ) {
    super(
      `custom partitioner of the edge into "${operator}" returned ${String(chosen)} for record ${describeRecord(record)}; it must be an integer in [0, ${shards})`,
    );
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
