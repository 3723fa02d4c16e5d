import type { Collector, Key, OnTimerContext, StateDeclarations, TimerService } from "@keyflow/functions-sdk";
import type { KeyedStateBackend } from "../state/keyed-state-backend.js";
import { KeyedTimerService } from "../time/keyed-timer-service.js";
import type { InternalTimer } from "../time/timer-queue.js";
import type { OperatorContext } from "./operator.js";
import type { KeyedProcessContext } from "./process-contexts.js";
import type { TimestampedCollector } from "./timestamped-collector.js";

/** A function with an optional `onTimer`, as keyed process and keyed co-process functions are. */
export interface TimerCallback {
  onTimer?(timestamp: number, ctx: OnTimerContext<Key, StateDeclarations>, out: Collector<unknown>): void;
}

/**
 * The timers of a keyed process function: `ctx.timerService` for the user (timers of the current
 * key, in namespace 0), and the firing of `onTimer` with the timer's key, state and time domain.
 * Records emitted from an event-time timer carry the timer's timestamp; from a processing-time
 * timer, none (as in Flink).
 */
export class ProcessTimers implements TimerService {
  readonly service: KeyedTimerService<number>;
  private ctx: KeyedProcessContext<StateDeclarations> | undefined;
  private collector: TimestampedCollector | undefined;

  constructor(
    context: OperatorContext,
    private readonly backend: KeyedStateBackend,
    private readonly fn: TimerCallback,
    /** Wraps a failure of `onTimer`, naming the operator and the timer. */
    private readonly failure: (error: unknown, what: string) => Error,
  ) {
    this.service = new KeyedTimerService<number>({
      maxParallelism: context.runtime.maxParallelism,
      processingTime: context.processingTime,
      currentKey: () => backend.currentKey,
      onEventTime: (timer) => this.fire(timer, "eventTime"),
      onProcessingTime: (timer) => this.fire(timer, "processingTime"),
    });
  }

  /** Connects the context and collector `onTimer` gets (built after this object). */
  bind(ctx: KeyedProcessContext<StateDeclarations>, collector: TimestampedCollector): void {
    this.ctx = ctx;
    this.collector = collector;
  }

  currentProcessingTime(): number {
    return this.service.currentProcessingTime();
  }
  currentWatermark(): number {
    return this.service.currentWatermark;
  }
  registerEventTimeTimer(timestamp: number): void {
    this.service.registerEventTimeTimer(0, checkTime("registerEventTimeTimer", timestamp));
  }
  registerProcessingTimeTimer(timestamp: number): void {
    this.service.registerProcessingTimeTimer(0, checkTime("registerProcessingTimeTimer", timestamp));
  }
  deleteEventTimeTimer(timestamp: number): void {
    this.service.deleteEventTimeTimer(0, timestamp);
  }
  deleteProcessingTimeTimer(timestamp: number): void {
    this.service.deleteProcessingTimeTimer(0, timestamp);
  }

  private fire(timer: InternalTimer<number>, domain: "eventTime" | "processingTime"): void {
    const ctx = this.ctx as KeyedProcessContext<StateDeclarations>;
    const collector = this.collector as TimestampedCollector;
    const key = timer.key as Key;
    this.backend.currentKey = key;
    ctx.currentKey = key;
    ctx.timeDomain = domain;
    ctx.ts = domain === "eventTime" ? timer.timestamp : Number.NaN;
    collector.ts = ctx.ts;
    if (this.fn.onTimer === undefined) return;
    try {
      this.fn.onTimer(timer.timestamp, ctx, collector);
    } catch (error) {
      throw this.failure(error, `(onTimer ${domain} ${timer.timestamp} for key ${JSON.stringify(key)})`);
    } finally {
      ctx.timeDomain = "eventTime";
    }
  }
}

function checkTime(what: string, timestamp: number): number {
  if (typeof timestamp !== "number" || Number.isNaN(timestamp)) {
    throw new TypeError(`${what} needs a numeric timestamp in ms, got ${String(timestamp)}`);
  }
  return timestamp;
}
