/**
 * What a function learns about where it runs, given to `open()`. One function object serves
 * one shard: every shard gets its own instance (the job module is evaluated in every worker),
 * so fields set in `open()` are per shard.
 */
export interface RuntimeContext {
  readonly jobName: string;
  readonly operatorName: string;
  readonly operatorUid: string;
  /** This shard's index, 0 ≤ shardIndex < parallelism. */
  readonly shardIndex: number;
  readonly parallelism: number;
  readonly maxParallelism: number;
}

/**
 * A function with a lifecycle. `open` runs once per shard before the first record (the shard
 * waits for a returned promise); `close` runs once after the last record or when the job stops.
 */
export interface RichFunction {
  open?(context: RuntimeContext): void | Promise<void>;
  close?(): void | Promise<void>;
}
