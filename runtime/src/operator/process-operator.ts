import type { ProcessFunction } from "@keyflow/functions-sdk";
import { AbstractOperator } from "./abstract-operator.js";
import type { OperatorContext } from "./operator.js";
import { OperatorProcessContext } from "./process-contexts.js";
import { TimestampedCollector } from "./timestamped-collector.js";

/** `process` on a non-keyed stream: the user's function with a context and side outputs. */
export class ProcessOperator extends AbstractOperator {
  private readonly ctx: OperatorProcessContext;
  private readonly collector: TimestampedCollector;

  constructor(
    context: OperatorContext,
    private readonly fn: ProcessFunction<unknown, unknown>,
  ) {
    super(context);
    this.ctx = new OperatorProcessContext(this.output, context.clock);
    this.collector = new TimestampedCollector(this.output);
  }
  protected functions(): readonly unknown[] {
    return [this.fn];
  }
  processRecord(value: unknown, timestamp: number): void {
    this.ctx.ts = timestamp;
    this.collector.ts = timestamp;
    try {
      this.fn.processElement(value, this.ctx, this.collector);
    } catch (error) {
      throw this.failure(error, value);
    }
  }
  override processWatermark(timestamp: number): void {
    this.ctx.wm = timestamp;
    super.processWatermark(timestamp);
  }
}
