import type { Key } from "@keyflow/functions-sdk";
import { mapKeyOf } from "../partition/canonical-key.js";
import { keyGroupOf } from "../partition/key-groups.js";
import type { ProcessingTimeService } from "./processing-time-service.js";
import { type InternalTimer, TimerQueue } from "./timer-queue.js";

export interface KeyedTimerServiceOptions<N> {
  readonly maxParallelism: number;
  readonly processingTime: ProcessingTimeService;
  /** The current key (the operator's key context): timers are registered for it. */
  readonly currentKey: () => Key;
  /** Identity of a namespace (equal ids, one timer). Default: the namespace itself. */
  readonly namespaceId?: (namespace: N) => unknown;
  /** Called for each event-time timer that fires, in timestamp order. */
  readonly onEventTime: (timer: InternalTimer<N>) => void;
  /** Called for each processing-time timer that fires, in timestamp order. */
  readonly onProcessingTime: (timer: InternalTimer<N>) => void;
}

/**
 * The timers of one keyed operator in one shard: event-time timers fire as the watermark
 * advances, processing-time timers as the clock does (through the shard's mailbox). At most one
 * timer per (key, namespace, timestamp, domain). Each timer records its key group, so timers are
 * snapshotted and rescaled with the rest of the key group's state.
 *
 * The namespace is what a timer belongs to inside a key: nothing (0) for process functions, the
 * window for window operators.
 */
export class KeyedTimerService<N = number> {
  private readonly eventTimers: TimerQueue<N>;
  private readonly processingTimers: TimerQueue<N>;
  private watermark = Number.NEGATIVE_INFINITY;
  private scheduledAt = Number.POSITIVE_INFINITY;
  private cancelScheduled: (() => void) | undefined;

  constructor(private readonly options: KeyedTimerServiceOptions<N>) {
    const namespaceId = options.namespaceId ?? ((namespace: N) => namespace);
    this.eventTimers = new TimerQueue<N>(namespaceId);
    this.processingTimers = new TimerQueue<N>(namespaceId);
  }

  get currentWatermark(): number {
    return this.watermark;
  }
  currentProcessingTime(): number {
    return this.options.processingTime.now();
  }
  get eventTimerCount(): number {
    return this.eventTimers.size;
  }
  get processingTimerCount(): number {
    return this.processingTimers.size;
  }

  registerEventTimeTimer(namespace: N, timestamp: number): void {
    this.add(this.eventTimers, namespace, timestamp);
  }
  deleteEventTimeTimer(namespace: N, timestamp: number): void {
    this.eventTimers.remove(mapKeyOf(this.options.currentKey()), namespace, timestamp);
  }

  registerProcessingTimeTimer(namespace: N, timestamp: number): void {
    if (this.add(this.processingTimers, namespace, timestamp) && timestamp < this.scheduledAt) this.schedule(timestamp);
  }
  deleteProcessingTimeTimer(namespace: N, timestamp: number): void {
    this.processingTimers.remove(mapKeyOf(this.options.currentKey()), namespace, timestamp);
  }

  /** Fires every event-time timer at or before `watermark` (including ones registered while firing). */
  advanceWatermark(watermark: number): void {
    this.watermark = watermark;
    for (;;) {
      const timer = this.eventTimers.pollDue(watermark);
      if (timer === undefined) return;
      this.options.onEventTime(timer);
    }
  }

  /** The queue of one time domain (its snapshots: see TimerServiceState). */
  queue(domain: "eventTime" | "processingTime"): TimerQueue<N> {
    return domain === "eventTime" ? this.eventTimers : this.processingTimers;
  }

  /**
   * Puts back a timer of a checkpoint (before the first record), for `key` (whose Map-key form is
   * `mapKey`). Processing-time timers are scheduled by `scheduleRestored`, once all are back.
   */
  restoreTimer(
    domain: "eventTime" | "processingTime",
    key: unknown,
    mapKey: unknown,
    namespace: N,
    timestamp: number,
  ): void {
    const keyGroup = keyGroupOf(key as Key, this.options.maxParallelism);
    this.queue(domain).add(mapKey, { key, namespace, timestamp, keyGroup });
  }

  /** Schedules the earliest restored processing-time timer (a timer already due fires at the next turn). */
  scheduleRestored(): void {
    const next = this.processingTimers.peekTime();
    if (next !== undefined && next < this.scheduledAt) this.schedule(next);
  }

  /** Stops the scheduled processing-time callback (the operator closes). */
  dispose(): void {
    this.cancelScheduled?.();
    this.cancelScheduled = undefined;
    this.scheduledAt = Number.POSITIVE_INFINITY;
  }

  private add(queue: TimerQueue<N>, namespace: N, timestamp: number): boolean {
    const key = this.options.currentKey();
    const mapKey = mapKeyOf(key);
    if (queue.has(mapKey, namespace, timestamp)) return false; // the common case: no timer object, no hash
    return queue.add(mapKey, { key, namespace, timestamp, keyGroup: keyGroupOf(key, this.options.maxParallelism) });
  }

  private schedule(timestamp: number): void {
    this.cancelScheduled?.();
    this.scheduledAt = timestamp;
    this.cancelScheduled = this.options.processingTime.registerTimer(timestamp, this.fireProcessingTimers);
  }

  private readonly fireProcessingTimers = (): void => {
    this.scheduledAt = Number.POSITIVE_INFINITY;
    this.cancelScheduled = undefined;
    const now = this.options.processingTime.now();
    for (;;) {
      const timer = this.processingTimers.pollDue(now);
      if (timer === undefined) break;
      this.options.onProcessingTime(timer);
    }
    const next = this.processingTimers.peekTime();
    if (next !== undefined && next < this.scheduledAt) this.schedule(next);
  };
}
