/**
 * A source reads records into a job. Each source shard gets its own reader; the source decides
 * how its work is divided among `parallelism` readers (a split per shard, or index modulo).
 *
 * The runtime polls a reader from the shard's thread between mailbox elements, so a reader never
 * runs concurrently with itself and should return promptly: emit up to `max` records and return.
 */
export interface Source<T> {
  /** How many readers this source supports at most (1 for a non-parallel source); unset is any. */
  readonly maxParallelism?: number;
  createReader(context: SourceReaderContext): SourceReader<T>;
}

export interface SourceReaderContext {
  readonly operatorName: string;
  readonly shardIndex: number;
  readonly parallelism: number;
  /** Processing time in ms since the epoch, from the runtime's clock (controllable in tests). */
  now(): number;
  /** Resolves after `ms` of processing time: return it from `poll` to wait without spinning. */
  sleep(ms: number): Promise<void>;
  /**
   * The splits this reader resumes, restored from a checkpoint or savepoint (possibly none, or
   * several: after rescaling, the splits of the old readers are dealt out over the new ones);
   * undefined on a fresh start, where the reader makes its own from shardIndex and parallelism.
   */
  readonly restoredSplits?: readonly unknown[] | undefined;
}

/** Where a reader emits records. `timestamp` is the record's event time, when it has one. */
export interface SourceOutput<T> {
  collect(value: T, timestamp?: number): void;
}

/**
 * What `poll` tells the runtime: "more" (poll again soon), "end" (this reader is exhausted), or
 * a promise to await before polling again (waiting for data or for a rate limit).
 */
export type PollResult = "more" | "end" | Promise<unknown>;

export interface SourceReader<T> {
  /** Emits up to `max` records into `output`. */
  poll(output: SourceOutput<T>, max: number): PollResult;
  /**
   * The position of each of the reader's splits, taken at a checkpoint barrier (between polls):
   * enough to resume every split exactly after the last record it emitted. Msgpack-encodable
   * plain data. A reader without it cannot take part in checkpoints (the job says so).
   */
  snapshotSplits?(): unknown[];
  close?(): void | Promise<void>;
}
