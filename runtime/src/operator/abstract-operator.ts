import type { OperatorNode, RichFunction } from "@keyflow/functions-sdk";
import { isRecordPathFailure, UserFunctionError } from "./errors.js";
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

  processWatermarkStatus(idle: boolean): void {
    this.output.emitWatermarkStatus(idle);
  }

  finish(): void {}

  /** Closes every rich function, even when one fails to close; rethrows the first failure, named. */
  async close(): Promise<void> {
    let failure: Error | undefined;
    for (const fn of this.functions()) {
      const rich = fn as RichFunction | undefined;
      if (rich !== undefined && typeof rich === "object" && typeof rich.close === "function") {
        try {
          await rich.close();
        } catch (error) {
          failure ??= UserFunctionError.of(this.node.name, this.shardName, "(close)", error);
        }
      }
    }
    if (failure !== undefined) throw failure;
  }

  /**
   * Wraps a user function's exception; errors raised further down the record path (a chained
   * operator's failure, a custom partitioner's out-of-range answer) pass through unchanged.
   */
  protected failure(error: unknown, record: unknown): Error {
    if (isRecordPathFailure(error)) return error;
    return UserFunctionError.of(this.node.name, this.shardName, record, error);
  }

  /** Like `failure`, for a call that is not about one record (a timer): `what` describes it, verbatim. */
  protected failureIn(error: unknown, what: string): Error {
    if (isRecordPathFailure(error)) return error;
    return new UserFunctionError(this.node.name, this.shardName, what, error);
  }
}
