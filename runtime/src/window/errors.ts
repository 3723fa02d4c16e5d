import { KeyflowError } from "@keyflow/functions-sdk";

/**
 * Merging windows produced a window that ends before event time (or processing time) already
 * is: its contents could never fire. Only a custom merging assigner can do this (session windows
 * only grow). Names the operator, the shard, the key and the window. Terminal, as in Flink.
 */
export class WindowMergeError extends KeyflowError {
  readonly code = "WINDOW_MERGE_INVALID";
  constructor(
    readonly operator: string,
    readonly shard: string,
    readonly key: string,
    readonly window: string,
    problem: string,
  ) {
    super(`operator "${operator}" (shard ${shard}): merging windows of key ${key} into ${window}: ${problem}`);
  }
}
