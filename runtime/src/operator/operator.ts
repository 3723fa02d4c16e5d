import type { OperatorNode, RuntimeContext } from "@keyflow/functions-sdk";
import type { OperatorRestore, OperatorSnapshot } from "../state/snapshot.js";
import type { Clock } from "../time/clock.js";
import type { ProcessingTimeService } from "../time/processing-time-service.js";

/**
 * Where an operator emits. Calls are synchronous: a record goes straight into the next chained
 * operator, or into a record writer's batch. Timestamps are numbers, NaN for "none".
 */
export interface Output {
  collect(value: unknown, timestamp: number): void;
  /** Emits to the side output with this tag id; dropped when nothing consumes that side output. */
  collectSide(tagId: string, value: unknown, timestamp: number): void;
  emitWatermark(timestamp: number): void;
  /** This output goes idle (holds back no event time downstream) or active again. */
  emitWatermarkStatus(idle: boolean): void;
}

/**
 * A stream operator: one transformation inside a shard. The shard calls it on its own thread,
 * one element at a time, never concurrently:
 * `open` once (awaited), then records and watermarks in channel order, then `finish` once when
 * every input ended (emit what is still pending), then `close` once (also after a failure).
 */
export interface StreamOperator {
  readonly node: OperatorNode;
  open(): void | Promise<void>;
  /** `input` is 0, or 1 for the second input of a two-input operator. */
  processRecord(value: unknown, timestamp: number, input: number): void;
  processWatermark(timestamp: number): void;
  /** The operator's input went idle or active; operators forward it unless they generate watermarks. */
  processWatermarkStatus(idle: boolean): void;
  finish(): void | Promise<void>;
  close(): void | Promise<void>;
  /** Its state at a checkpoint barrier (a copy-on-write mark); undefined for a stateless operator. */
  snapshotState?(checkpointId: number, mode: "full" | "incremental"): OperatorSnapshot | undefined;
  /** Its state from a checkpoint, before `open`. */
  restoreState?(restore: OperatorRestore): void | Promise<void>;
  /** Checkpoint `checkpointId` is complete and durable (commit what it covers). */
  notifyCheckpointComplete?(checkpointId: number): void;
  /** Checkpoint `checkpointId` will not complete. */
  notifyCheckpointAborted?(checkpointId: number): void;
}

/** What an operator knows of where it runs, built by the shard. */
export interface OperatorContext {
  readonly node: OperatorNode;
  readonly runtime: RuntimeContext;
  readonly clock: Clock;
  /** Processing-time callbacks on the shard's thread, between elements. */
  readonly processingTime: ProcessingTimeService;
  /** How often periodic watermark generators emit (ms of processing time; 0: never). */
  readonly autoWatermarkIntervalMs: number;
  readonly output: Output;
  /** Key selector per input, for keyed operators (from the hash partitioner of the input edge). */
  readonly keySelectors: ReadonlyArray<((value: unknown) => unknown) | undefined>;
  /** Where collect sinks deliver their results. */
  readonly results: ResultCollector;
  /** True when the job takes checkpoints: sinks that can be transactional then commit per checkpoint. */
  readonly checkpointed?: boolean;
}

/** Receives what collect sinks gather and what operators count; the executor returns it as the job's result. */
export interface ResultCollector {
  /**
   * Adds records a collect sink gathered. With `transaction`, the call is idempotent: a second
   * add of the same transaction id is ignored (a transactional sink commits a transaction again
   * after recovery when it cannot know whether the first commit happened).
   */
  add(sinkName: string, shardIndex: number, values: unknown[], transaction?: string): void;
  /** An operator shard's metrics (counters) at the end of its input, by name; the result adds them up over shards. */
  addMetrics(operatorName: string, shardIndex: number, metrics: Readonly<Record<string, number>>): void;
}
