import {
  describeRecord,
  InvalidJobError,
  type Key,
  type Window,
  type WindowAssigner,
  type WindowSpec,
} from "@keyflow/functions-sdk";
import { AbstractOperator } from "../operator/abstract-operator.js";
import { InvalidTimestampError, timestampProblem } from "../operator/errors.js";
import { keySelectorOf } from "../operator/keyed-process-operator.js";
import type { OperatorContext } from "../operator/operator.js";
import type { WindowClocks } from "./process-window-context.js";
import { WindowFunctionRunner } from "./window-function-runner.js";

/** A window ending here never ends: it gets no cleanup timer (global windows), as Long.MAX_VALUE in Flink. */
export const END_OF_TIME = Number.MAX_SAFE_INTEGER;

/** What a window operator holds, for tests and metrics: every count is zero once all windows are cleaned up. */
export interface WindowOperatorCounts {
  /** (key, window) pairs with contents. */
  readonly contents: number;
  /** (key, window) pairs with trigger state. */
  readonly triggerState: number;
  /** (key, window) pairs with a process window function's `windowState`. */
  readonly windowState: number;
  /** In-flight windows of merging assigners, over all keys. */
  readonly mergingWindows: number;
  readonly eventTimers: number;
  readonly processingTimers: number;
}

/**
 * What both window operators share (Flink's WindowOperator semantics): the key selector, the
 * window function, lateness (a window is late once `maxTimestamp + allowedLateness` is at or
 * below the watermark; a record all of whose windows are late goes to the late-data side output,
 * or is dropped and counted), the checks made at open, and the `lateRecordsDropped` metric,
 * reported to the job result when the input ends.
 *
 * Event time: `processWatermark` fires the due timers (and so the windows they close) before the
 * watermark goes downstream, so results precede the watermark that completed them. At the end of
 * input the shard delivers a final watermark (MAX_SAFE_INTEGER) and every event-time window fires.
 * Processing-time windows still open at the end of input do not fire: a bounded job ends without
 * waiting for the clock, as in Flink.
 */
export abstract class WindowOperatorBase extends AbstractOperator implements WindowClocks {
  protected readonly selector: (value: unknown) => unknown;
  protected readonly assigner: WindowAssigner<unknown, Window>;
  protected readonly lateness: number;
  protected readonly runner: WindowFunctionRunner;
  /** The key of the record or timer being processed (timers are registered for it). */
  protected currentKey: Key = "";
  private eventTime = Number.NEGATIVE_INFINITY;
  /** Records dropped because every window they belong to was late, and no late-data side output was set. */
  lateRecordsDropped = 0;

  constructor(
    context: OperatorContext,
    protected readonly spec: WindowSpec,
  ) {
    super(context);
    this.selector = keySelectorOf(context, 0);
    this.assigner = spec.assigner;
    this.lateness = spec.allowedLatenessMs;
    this.runner = new WindowFunctionRunner(context, spec, this);
  }

  /** The operator's event time: the last watermark it received (already set while that watermark's timers fire). */
  get currentWatermark(): number {
    return this.eventTime;
  }
  currentProcessingTime(): number {
    return this.context.processingTime.now();
  }

  /** What the operator holds now (tests: zero everything after every window was cleaned up). */
  abstract counts(): WindowOperatorCounts;

  /** (key, window) pairs holding anything: contents, trigger state, window state or a merging-set entry. */
  get windowCount(): number {
    const c = this.counts();
    return c.contents + c.triggerState + c.windowState + c.mergingWindows;
  }
  get timerCount(): number {
    const c = this.counts();
    return c.eventTimers + c.processingTimers;
  }

  protected functions(): readonly unknown[] {
    return this.runner.functions();
  }

  /** Fires the event-time timers up to `watermark`. */
  protected abstract advanceTimers(watermark: number): void;
  protected abstract disposeTimers(): void;

  override processWatermark(timestamp: number): void {
    this.eventTime = timestamp;
    this.advanceTimers(timestamp);
    super.processWatermark(timestamp);
  }

  /** Checks what a window operator cannot run with, then opens the user functions. */
  override async open(): Promise<void> {
    const problem = this.configurationProblem();
    if (problem !== undefined) throw new InvalidJobError(this.node.name, problem);
    await super.open();
  }

  /** Reports the operator's metrics to the job result (per shard; the result sums them). */
  override finish(): void {
    this.context.results.addMetrics(this.node.name, this.context.runtime.shardIndex, {
      lateRecordsDropped: this.lateRecordsDropped,
    });
  }

  override async close(): Promise<void> {
    this.disposeTimers();
    await super.close();
  }

  /** When a window's state is dropped: its end plus the allowed lateness in event time; its end in processing time. */
  protected cleanupTime(maxTimestamp: number): number {
    if (!this.assigner.isEventTime) return maxTimestamp;
    const time = maxTimestamp + this.lateness;
    return Math.min(time, END_OF_TIME);
  }

  /** A window that can no longer take records: event time passed its end plus the allowed lateness. */
  protected isWindowLate(maxTimestamp: number): boolean {
    return this.assigner.isEventTime && this.cleanupTime(maxTimestamp) <= this.eventTime;
  }

  /** A record that came after the allowed lateness of any window it could belong to. */
  protected isRecordLate(timestamp: number): boolean {
    return this.assigner.isEventTime && timestamp + this.lateness <= this.eventTime;
  }

  /** A record every window of which was late: to the late-data side output, or dropped and counted. */
  protected late(value: unknown, timestamp: number): void {
    const tag = this.spec.lateDataTag;
    if (tag === undefined) this.lateRecordsDropped++;
    else this.output.collectSide(tag, value, timestamp);
  }

  protected invalidTimestamp(value: unknown, timestamp: number): InvalidTimestampError {
    return new InvalidTimestampError(
      this.node.name,
      this.shardName,
      describeRecord(value),
      `${timestampProblem(timestamp)}: event-time windows need a timestamp on every record; assign timestamps ` +
        "with a WatermarkStrategy (env.fromSource(source, name, strategy) or stream.assignTimestampsAndWatermarks(strategy))",
    );
  }

  /** Describes a timer for an error naming what failed. */
  protected describeTimer(domain: "event" | "processing", timestamp: number, window: string, key: Key): string {
    return `(${domain}-time timer ${timestamp} of window ${window} for key ${describeRecord(key)})`;
  }

  private configurationProblem(): string | undefined {
    const { assigner, spec } = this;
    if (assigner.mergeWindows === undefined) return undefined;
    const trigger = spec.trigger ?? assigner.defaultTrigger();
    if (trigger.canMerge?.() !== true) {
      return "the window assigner merges windows (session windows) but the trigger does not support merging (its canMerge() does not return true)";
    }
    const fn = spec.function;
    if (fn.kind === "aggregate" && spec.evictor === undefined && typeof fn.aggregate.merge !== "function") {
      return "merging windows (session windows) merge their accumulators, but the AggregateFunction has no merge(a, b)";
    }
    const windowState = (fn.process as { windowState?: object } | undefined)?.windowState;
    if (windowState !== undefined && Object.keys(windowState).length > 0) {
      return "per-window state (windowState) is not supported with merging windows (session windows), as in Flink; use globalState";
    }
    return undefined;
  }
}
