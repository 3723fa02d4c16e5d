import { InvalidJobError } from "../errors.js";
import type { OutputTag } from "../function/collector.js";

/**
 * Where a watermark generator reports event-time progress. Watermarks only move forward: a
 * smaller one than already emitted is ignored.
 */
export interface WatermarkOutput {
  /** Event time has reached `timestamp`: no record with a smaller or equal timestamp should follow. */
  emitWatermark(timestamp: number): void;
  /** This split has no data for now: it stops holding event time back downstream until its next record. */
  markIdle(): void;
  /** This split has data again (done automatically when a record arrives). */
  markActive(): void;
}

/**
 * Decides watermarks for one source split from the records it sees. Periodic generators emit in
 * `onPeriodicEmit` (called every auto-watermark interval of processing time, 200 ms by default);
 * punctuated ones emit in `onEvent`. One generator per split, called on the split's thread.
 */
export interface WatermarkGenerator<T> {
  onEvent(event: T, timestamp: number, output: WatermarkOutput): void;
  onPeriodicEmit(output: WatermarkOutput): void;
}

/** Reads a record's event time in milliseconds. `recordTimestamp` is the timestamp it came with, if any. */
export type TimestampAssigner<T> = (event: T, recordTimestamp: number | undefined) => number;

/**
 * How a stream gets event time: a timestamp assigner (optional when the source already stamps
 * its records), a watermark generator per split, and an optional idle timeout. Immutable; the
 * `with...` methods return a new strategy.
 *
 * ```ts
 * const strategy = WatermarkStrategy.forBoundedOutOfOrderness<SensorReading>(5_000)
 *   .withTimestampAssigner((r) => r.timestamp)
 *   .withIdleness(60_000);
 * ```
 */
export class WatermarkStrategy<T> {
  private constructor(
    /** Creates the generator of one split. */
    readonly createGenerator: () => WatermarkGenerator<T>,
    readonly timestampAssigner: TimestampAssigner<T> | undefined,
    /** Processing time without records after which a split is marked idle; undefined: never. */
    readonly idleTimeoutMs: number | undefined,
    /** Where records whose timestamp cannot be read go; undefined: they fail the job. */
    readonly invalidTimestampTag: OutputTag<T> | undefined,
  ) {}

  /**
   * Watermarks that trail the largest timestamp seen by `maxOutOfOrdernessMs` (emitted
   * periodically): a record may arrive that late and still be on time.
   */
  static forBoundedOutOfOrderness<T>(maxOutOfOrdernessMs: number): WatermarkStrategy<T> {
    if (!(Number.isFinite(maxOutOfOrdernessMs) && maxOutOfOrdernessMs >= 0)) {
      throw new InvalidJobError(
        "WatermarkStrategy",
        `forBoundedOutOfOrderness needs a bound of zero or more milliseconds, got ${maxOutOfOrdernessMs}`,
      );
    }
    return WatermarkStrategy.forGenerator(() => boundedOutOfOrderness<T>(maxOutOfOrdernessMs));
  }

  /** Timestamps that never go down: the watermark follows the largest timestamp seen. */
  static forMonotonousTimestamps<T>(): WatermarkStrategy<T> {
    return WatermarkStrategy.forGenerator(() => boundedOutOfOrderness<T>(0));
  }

  /** A custom generator, periodic or punctuated. */
  static forGenerator<T>(createGenerator: () => WatermarkGenerator<T>): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>(createGenerator, undefined, undefined, undefined);
  }

  /** Timestamps only, no watermarks (event time never advances until the end of input). */
  static noWatermarks<T>(): WatermarkStrategy<T> {
    return WatermarkStrategy.forGenerator(() => ({ onEvent() {}, onPeriodicEmit() {} }));
  }

  withTimestampAssigner(assigner: TimestampAssigner<T>): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>(this.createGenerator, assigner, this.idleTimeoutMs, this.invalidTimestampTag);
  }

  /** Marks a split idle after `timeoutMs` of processing time without records, so it does not hold back event time. */
  withIdleness(timeoutMs: number): WatermarkStrategy<T> {
    if (!(timeoutMs > 0)) {
      throw new InvalidJobError("WatermarkStrategy", `withIdleness needs a positive timeout, got ${timeoutMs}`);
    }
    return new WatermarkStrategy<T>(this.createGenerator, this.timestampAssigner, timeoutMs, this.invalidTimestampTag);
  }

  /**
   * Sends records whose timestamp cannot be read (missing, NaN, not a number) to this side output
   * instead of failing the job; read them with `getSideOutput(tag)`.
   */
  withInvalidTimestampsTo(tag: OutputTag<T>): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>(this.createGenerator, this.timestampAssigner, this.idleTimeoutMs, tag);
  }
}

/** Flink's bounded out-of-orderness generator: watermark = max timestamp − bound − 1, emitted periodically. */
function boundedOutOfOrderness<T>(boundMs: number): WatermarkGenerator<T> {
  let maxTimestamp = Number.NEGATIVE_INFINITY;
  return {
    onEvent(_event, timestamp) {
      if (timestamp > maxTimestamp) maxTimestamp = timestamp;
    },
    onPeriodicEmit(output) {
      if (maxTimestamp !== Number.NEGATIVE_INFINITY) output.emitWatermark(maxTimestamp - boundMs - 1);
    },
  };
}
