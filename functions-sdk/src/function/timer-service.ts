/** Which clock a timer follows: event time (watermarks) or processing time (the wall clock). */
export type TimeDomain = "eventTime" | "processingTime";

/**
 * Timers of the current key. A timer is keyed state: there is at most one per (key, timestamp,
 * domain), registering it again does nothing, and it fires once, on the key's shard, through
 * `onTimer` with that key current. Event-time timers fire when the watermark reaches their
 * timestamp; processing-time timers when the runtime's clock does. Calls are synchronous.
 *
 * ```ts
 * ctx.timerService.registerEventTimeTimer(reading.timestamp + 1_000);
 * ```
 */
export interface TimerService {
  currentProcessingTime(): number;
  currentWatermark(): number;
  registerEventTimeTimer(timestamp: number): void;
  registerProcessingTimeTimer(timestamp: number): void;
  /** Deletes the key's timer at `timestamp` if there is one. */
  deleteEventTimeTimer(timestamp: number): void;
  deleteProcessingTimeTimer(timestamp: number): void;
}
