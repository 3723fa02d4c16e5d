/**
 * A sink writes records out of a job. Each sink shard gets its own writer. `write` is called
 * synchronously for each record in order; `flush` is awaited at end of input (and, later, at
 * checkpoints); `close` once when the shard stops.
 */
export interface Sink<T> {
  createWriter(context: SinkWriterContext): SinkWriter<T>;
}

export interface SinkWriterContext {
  readonly operatorName: string;
  readonly shardIndex: number;
  readonly parallelism: number;
}

export interface SinkWriter<T> {
  write(value: T, timestamp: number | undefined): void;
  flush?(): void | Promise<void>;
  close?(): void | Promise<void>;
  /**
   * For transactional sinks: checkpoint `checkpointId` is durable for the whole job, so what was
   * written before its barrier may be committed. Awaited, on the shard's thread; a later
   * completion covers earlier checkpoints whose notification was missed.
   */
  notifyCheckpointComplete?(checkpointId: number): void | Promise<void>;
  /** For transactional sinks: checkpoint `checkpointId` failed; what was prepared for it is covered by a later one. */
  notifyCheckpointAborted?(checkpointId: number): void | Promise<void>;
}

/**
 * A named collection of a job's results, returned by `execute()`:
 * `const maxes = collectSink<Reading>("maxes"); ... stream.sinkTo(maxes); result.get(maxes)`.
 * Results of a bounded job are gathered from every shard, in the order each shard emitted them.
 */
export interface CollectSink<T> {
  readonly kind: "collect";
  readonly name: string;
  readonly __type?: T;
}

export function collectSink<T>(name: string): CollectSink<T> {
  if (name.length === 0) throw new TypeError("a collect sink needs a non-empty name");
  return { kind: "collect", name };
}

/** Built-in sinks the runtime implements, and user sinks. */
export type SinkSpec =
  | { readonly kind: "print"; readonly prefix: string | undefined }
  | { readonly kind: "discard" }
  | CollectSink<unknown>
  | { readonly kind: "user"; readonly sink: Sink<unknown> };
