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
 *
 * `notifyCheckpointComplete` and `notifyCheckpointAborted` are for transactional sinks and
 * functions with side effects: the first runs once checkpoint `checkpointId` is durable for the
 * whole job (commit what was prepared up to its barrier), the second when that checkpoint failed
 * (its work is covered by a later one, or replayed after a restore). They run on the shard's
 * thread between records, awaited; a notification may be missed (a failure right after
 * completion), so a later completion covers every earlier checkpoint.
 *
 * ```ts
 * const sink = {
 *   pending: new Map<number, string[]>(),
 *   notifyCheckpointComplete(id: number) { for (const [n, batch] of this.pending) if (n <= id) commit(batch); },
 * };
 * ```
 */
export interface RichFunction {
  open?(context: RuntimeContext): void | Promise<void>;
  close?(): void | Promise<void>;
  notifyCheckpointComplete?(checkpointId: number): void | Promise<void>;
  notifyCheckpointAborted?(checkpointId: number): void | Promise<void>;
}
