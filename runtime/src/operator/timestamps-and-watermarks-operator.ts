import type { WatermarkStrategy } from "@keyflow/functions-sdk";
import { MAX_WATERMARK } from "../element/stream-element.js";
import { AbstractOperator } from "./abstract-operator.js";
import type { OperatorContext } from "./operator.js";
import { WatermarkGeneration } from "./watermark-generation.js";

/**
 * `assignTimestampsAndWatermarks`: stamps records and generates watermarks in every shard. As in
 * Flink, watermarks from upstream are replaced by its own — except the final one at end of
 * input, which it forwards so everything downstream fires.
 */
export class TimestampsAndWatermarksOperator extends AbstractOperator {
  private readonly generation: WatermarkGeneration;

  constructor(context: OperatorContext, strategy: WatermarkStrategy<unknown>) {
    super(context);
    this.generation = new WatermarkGeneration({
      strategy,
      output: this.output,
      processingTime: context.processingTime,
      intervalMs: context.autoWatermarkIntervalMs,
      operatorName: this.node.name,
      shardName: this.shardName,
    });
  }
  protected functions(): readonly unknown[] {
    return [];
  }
  override async open(): Promise<void> {
    await super.open();
    this.generation.start();
  }
  processRecord(value: unknown, timestamp: number): void {
    this.generation.onRecord(value, timestamp);
  }
  override processWatermark(timestamp: number): void {
    if (timestamp >= MAX_WATERMARK) this.generation.finish();
  }
  override processWatermarkStatus(): void {}
  override async close(): Promise<void> {
    this.generation.stop();
    await super.close();
  }
}
