import type { OperatorNode, RuntimeContext } from "@keyflow/functions-sdk";
import type { OperatorRestore, OperatorSnapshot } from "../state/snapshot.js";
import type { Clock } from "../time/clock.js";
import type { ProcessingTimeService } from "../time/processing-time-service.js";
import type { SnapshotMode } from "../util/change-tracker.js";

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
 *
 * Checkpoints (optional methods; an operator without them keeps no state), also on the shard's
 * thread, between elements:
 * - `restoreState` once, after construction and before `open` (Flink's initializeState: `open`
 *   and the first record already see the restored state), when the job starts from a checkpoint
 *   or savepoint: the operator's entries for the key groups its shard owns now, and its list
 *   state. Awaited when it returns a promise. State the operator does not know is a
 *   StateRestoreError (code STATE_RESTORE_MISMATCH), never dropped.
 * - `snapshotState` at a barrier, synchronously: a copy-on-write mark, not a copy. The store
 *   reads the snapshot's entries while records keep coming, then releases it. "incremental"
 *   holds what changed since the last completed checkpoint (the first snapshot, and any before a
 *   checkpoint completed, are full: the snapshot's `mode` says which). Undefined: no state.
 * - `notifyCheckpointComplete` once checkpoint `id` is durable for the whole job (state changes
 *   up to it need not be written again); `notifyCheckpointAborted` when it failed (its changes go
 *   into the next one). Both are forwarded to user functions that define them (transactional sinks).
 *
 * ```ts
 * const snapshot = operator.snapshotState?.(7, "incremental"); // at barrier 7
 * for (const entry of snapshot?.keyed ?? []) store.put(entry); // later, in chunks
 * snapshot?.release();
 * await operator.notifyCheckpointComplete?.(7);
 * ```
 */
export interface StreamOperator {
  readonly node: OperatorNode;
  open(): void | Promise<void>;
  /** `input` is 0, or 1 for the second input of a two-input operator. */
  processRecord(value: unknown, timestamp: number, input: number): void;
  /**
   * A batch of records on `input` (`timestamps` parallel to `values`, or undefined when none
   * has one), with the same effect as `processRecord` on each in order. Optional: keyed
   * operators take a batch at once to load its keys' state together.
   */
  processBatch?(values: readonly unknown[], timestamps: readonly number[] | undefined, input: number): void;
  processWatermark(timestamp: number): void;
  /** The operator's input went idle or active; operators forward it unless they generate watermarks. */
  processWatermarkStatus(idle: boolean): void;
  finish(): void | Promise<void>;
  close(): void | Promise<void>;
  snapshotState?(checkpointId: number, mode: SnapshotMode): OperatorSnapshot | undefined;
  restoreState?(restore: OperatorRestore): void | Promise<void>;
  notifyCheckpointComplete?(checkpointId: number): void | Promise<void>;
  notifyCheckpointAborted?(checkpointId: number): void | Promise<void>;
  /**
   * For an operator whose part of a checkpoint is whole only some time after its snapshot: the
   * functions dispatcher records the messages in flight on its feedback loop until every shard's
   * marker for the checkpoint arrived (Chandy–Lamport channel state). The shard calls it on its
   * thread right after `snapshotState(id)` returned `snapshot`, and holds its report of checkpoint
   * `id` until `done` is called (possibly at once) with the snapshot to report in its place.
   * Absent: the snapshot is whole when `snapshotState` returns.
   */
  completeSnapshot?(checkpointId: number, snapshot: OperatorSnapshot, done: (whole: OperatorSnapshot) => void): void;
  /**
   * True for an operator whose `finish` waits for work that reaches it as mails (the functions
   * dispatcher waits until messages between its shards have gone quiet): the shard keeps running
   * mails, and flushing its outputs, while it finishes.
   */
  readonly runsMailsWhileFinishing?: boolean;
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
  /**
   * Registers work for when the whole job has finished (every shard of this host): transactional
   * sinks commit their last transaction then, not when their own input ends, since until the job
   * is done a failure elsewhere may still restore an earlier checkpoint.
   */
  readonly onJobFinished?: (action: () => void) => void;
  /**
   * Runs `action` on the shard's thread as a mail, before its next element (and while it
   * finishes, for an operator that `runsMailsWhileFinishing`). Undefined outside a shard.
   */
  readonly mail?: (action: () => void) => void;
  /**
   * Objects shared by the operators of one thread (one shard host), by a key they choose: the
   * shards of a functions operator find their common feedback loop here. Undefined outside a host.
   */
  readonly threadShared?: Map<string, unknown>;
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
