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
  close?(): void | Promise<void>;
}
