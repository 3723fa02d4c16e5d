import type { WatermarkGenerator, WatermarkOutput, WatermarkStrategy } from "@keyflow/functions-sdk";
import { describeRecord } from "@keyflow/functions-sdk";
import { MAX_WATERMARK } from "../element/stream-element.js";
import type { ProcessingTimeService } from "../time/processing-time-service.js";
import { InvalidTimestampError, timestampProblem, UserFunctionError } from "./errors.js";
import type { Output } from "./operator.js";

export interface WatermarkGenerationOptions {
  readonly strategy: WatermarkStrategy<unknown>;
  readonly output: Output;
  readonly processingTime: ProcessingTimeService;
  /** Periodic emission interval in ms of processing time; 0 turns it off. */
  readonly intervalMs: number;
  readonly operatorName: string;
  readonly shardName: string;
}

/**
 * Timestamps and watermarks for one split: reads each record's timestamp, emits the record with
 * it, lets the generator see it (a punctuated watermark follows its record), asks the generator
 * for a watermark every interval, and marks the split idle after the strategy's idle timeout
 * without records. Used by source shards (per split, as the source reads) and by the
 * `assignTimestampsAndWatermarks` operator. Watermarks it emits only go forward.
 */
export class WatermarkGeneration implements WatermarkOutput {
  private readonly generator: WatermarkGenerator<unknown>;
  private readonly assigner: ((event: unknown, recordTimestamp: number | undefined) => number) | undefined;
  private readonly invalidTag: string | undefined;
  private current = Number.NEGATIVE_INFINITY;
  private idle = false;
  private recordsSinceTick = 0;
  private lastActivity = 0;
  private cancelTick: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly options: WatermarkGenerationOptions) {
    this.generator = options.strategy.createGenerator();
    this.assigner = options.strategy.timestampAssigner;
    this.invalidTag = options.strategy.invalidTimestampTag?.id;
  }

  /** Starts periodic emission and idleness detection. */
  start(): void {
    this.lastActivity = this.options.processingTime.now();
    this.scheduleTick();
  }

  /** Emits the record with its event timestamp; `recordTimestamp` is what it came with (NaN: none). */
  onRecord(value: unknown, recordTimestamp: number): void {
    let timestamp: number = recordTimestamp;
    if (this.assigner !== undefined) {
      try {
        timestamp = this.assigner(value, Number.isNaN(recordTimestamp) ? undefined : recordTimestamp);
      } catch (error) {
        throw UserFunctionError.of(this.options.operatorName, this.options.shardName, value, error);
      }
    }
    const problem = timestampProblem(timestamp);
    if (problem !== undefined) {
      if (this.invalidTag !== undefined) {
        this.options.output.collectSide(this.invalidTag, value, Number.NaN);
        return;
      }
      throw new InvalidTimestampError(
        this.options.operatorName,
        this.options.shardName,
        describeRecord(value),
        this.assigner === undefined ? `${problem}; give the watermark strategy a timestamp assigner` : problem,
      );
    }
    this.recordsSinceTick++;
    if (this.idle) this.markActive();
    this.options.output.collect(value, timestamp);
    try {
      this.generator.onEvent(value, timestamp, this);
    } catch (error) {
      throw UserFunctionError.of(this.options.operatorName, this.options.shardName, value, error);
    }
  }

  emitWatermark(timestamp: number): void {
    if (this.stopped || !(timestamp > this.current)) return;
    if (this.idle) this.markActive();
    this.current = timestamp;
    this.options.output.emitWatermark(timestamp);
  }

  markIdle(): void {
    if (this.idle || this.stopped) return;
    this.idle = true;
    this.options.output.emitWatermarkStatus(true);
  }

  markActive(): void {
    if (!this.idle || this.stopped) return;
    this.idle = false;
    this.options.output.emitWatermarkStatus(false);
  }

  /** End of input: event time is complete. Emits the final watermark and stops. */
  finish(): void {
    if (this.stopped) return;
    if (this.idle) this.markActive();
    this.emitWatermark(MAX_WATERMARK);
    this.stop();
  }

  stop(): void {
    this.stopped = true;
    this.cancelTick?.();
    this.cancelTick = undefined;
  }

  private scheduleTick(): void {
    const idleTimeout = this.options.strategy.idleTimeoutMs;
    const every = this.options.intervalMs > 0 ? this.options.intervalMs : idleTimeout;
    if (every === undefined || this.stopped) return;
    const time = this.options.processingTime;
    this.cancelTick = time.registerTimer(time.now() + every, this.tick);
  }

  private readonly tick = (): void => {
    if (this.stopped) return;
    const now = this.options.processingTime.now();
    if (this.recordsSinceTick > 0) {
      this.recordsSinceTick = 0;
      this.lastActivity = now;
    }
    if (this.options.intervalMs > 0) {
      try {
        this.generator.onPeriodicEmit(this);
      } catch (error) {
        throw UserFunctionError.of(this.options.operatorName, this.options.shardName, "(periodic watermark)", error);
      }
    }
    const idleTimeout = this.options.strategy.idleTimeoutMs;
    if (idleTimeout !== undefined && !this.idle && now - this.lastActivity >= idleTimeout) this.markIdle();
    this.scheduleTick();
  };
}
