import { describeRecord, KeyflowError } from "@keyflow/functions-sdk";

/** A custom partitioner chose a shard that does not exist. Terminal: the job's code is wrong. */
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
