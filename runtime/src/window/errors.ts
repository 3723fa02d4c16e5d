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

/**
 * A window of a custom Window class was to go into a checkpoint (as a timer's namespace or a
 * merging window): only TimeWindow and GlobalWindow have a stable snapshot form. The checkpoint
 * fails; processing goes on. Terminal for checkpoints of this job: use TimeWindow in custom assigners.
 */
export class WindowNotSnapshottableError extends KeyflowError {
  readonly code = "WINDOW_NOT_SNAPSHOTTABLE";
  constructor(readonly window: string) {
    super(
      `window ${window} cannot be snapshotted: only TimeWindow and GlobalWindow have a snapshot form (make a custom assigner's windows TimeWindows)`,
    );
  }
}
