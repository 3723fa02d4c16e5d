import type { OperatorNode, RichFunction } from "@keyflow/functions-sdk";
import { UserFunctionError } from "./errors.js";
import type { OperatorContext, Output, StreamOperator } from "./operator.js";

/**
 * Shared plumbing of the built-in operators: the output, the current record's timestamp and
 * watermark, the rich-function lifecycle, and turning a user function's exception into a
 * UserFunctionError that names the operator, shard and record.
 */
export abstract class AbstractOperator implements StreamOperator {
  readonly node: OperatorNode;
  protected readonly output: Output;
  protected watermark = Number.NEGATIVE_INFINITY;
  protected readonly shardName: string;

  constructor(protected readonly context: OperatorContext) {
    this.node = context.node;
    this.output = context.output;
    this.shardName = `${context.runtime.operatorName}#${context.runtime.shardIndex}`;
  }

  abstract processRecord(value: unknown, timestamp: number, input: number): void;

  /** The user functions of this operator, for open and close. */
  protected abstract functions(): readonly unknown[];

  async open(): Promise<void> {
    for (const fn of this.functions()) {
      const rich = fn as RichFunction | undefined;
      if (rich !== undefined && typeof rich === "object" && typeof rich.open === "function") {
        try {
          await rich.open(this.context.runtime);
        } catch (error) {
          throw UserFunctionError.of(this.node.name, this.shardName, "(open)", error);
        }
      }
    }
  }

  processWatermark(timestamp: number): void {
    this.watermark = timestamp;
    this.output.emitWatermark(timestamp);
  }

  finish(): void {}

  async close(): Promise<void> {
    for (const fn of this.functions()) {
      const rich = fn as RichFunction | undefined;
      if (rich !== undefined && typeof rich === "object" && typeof rich.close === "function") await rich.close();
    }
  }

  /** Wraps a user function's exception; errors already naming an operator pass through. */
  protected failure(error: unknown, record: unknown): Error {
    if (error instanceof UserFunctionError) return error;
    return UserFunctionError.of(this.node.name, this.shardName, record, error);
  }
}
