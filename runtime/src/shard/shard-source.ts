import type { OperatorNode, SourceOutput, SourceReader } from "@keyflow/functions-sdk";
import { MAX_WATERMARK } from "../element/stream-element.js";
import { isRecordPathFailure, UserFunctionError } from "../operator/errors.js";
import { WatermarkGeneration } from "../operator/watermark-generation.js";
import type { ProcessingTimeService } from "../time/processing-time-service.js";
import type { OperatorOutput } from "./operator-output.js";

/** What a source shard's source is made from. */
export interface ShardSourceOptions {
  readonly node: OperatorNode;
  readonly reader: SourceReader<unknown>;
  /** The chain's head output: where the source's records and watermarks go. */
  readonly output: OperatorOutput;
  readonly processingTime: ProcessingTimeService;
  readonly autoWatermarkIntervalMs: number;
  /** `<vertex>#<index>`, for errors. */
  readonly shardName: string;
}

/**
 * The source of a source shard: its reader, polled in batches, and — when the source has a
 * watermark strategy — the per-split timestamps and watermarks applied as it emits.
 */
export class ShardSource {
  readonly node: OperatorNode;
  readonly reader: SourceReader<unknown>;
  private readonly output: SourceOutput<unknown>;
  private readonly watermarks: WatermarkGeneration | undefined;

  constructor(private readonly options: ShardSourceOptions) {
    this.node = options.node;
    this.reader = options.reader;
    const { output } = options;
    const strategy = options.node.spec.kind === "source" ? options.node.spec.watermarks : undefined;
    if (strategy === undefined) {
      this.output = { collect: (value: unknown, timestamp?: number) => output.collect(value, timestamp ?? Number.NaN) };
    } else {
      const generation = new WatermarkGeneration({
        strategy,
        output,
        processingTime: options.processingTime,
        intervalMs: options.autoWatermarkIntervalMs,
        operatorName: options.node.name,
        shardName: options.shardName,
      });
      this.watermarks = generation;
      this.output = {
        collect: (value: unknown, timestamp?: number) => generation.onRecord(value, timestamp ?? Number.NaN),
      };
    }
  }

  /** Starts periodic watermarks (when the source has a strategy). */
  start(): void {
    this.watermarks?.start();
  }

  /** Polls up to `batchSize` records; a failure of the reader is named after the source and shard. */
  poll(batchSize: number): ReturnType<SourceReader<unknown>["poll"]> {
    try {
      return this.reader.poll(this.output, batchSize);
    } catch (error) {
      throw this.failure(error);
    }
  }

  /** The reader's failure (thrown, or of a poll's promise), as a UserFunctionError naming the source. */
  failure(error: unknown): Error {
    return isRecordPathFailure(error) || error instanceof UserFunctionError
      ? (error as Error)
      : UserFunctionError.of(this.node.name, this.options.shardName, "(source poll)", error);
  }

  /** The source ended: event time is complete, so everything pending downstream can fire. */
  ended(): void {
    if (this.watermarks !== undefined) this.watermarks.finish();
    else this.options.output.emitWatermark(MAX_WATERMARK);
  }

  async close(): Promise<void> {
    this.watermarks?.stop();
    await this.reader.close?.();
  }
}
