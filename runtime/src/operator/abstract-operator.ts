import type { OperatorNode, RichFunction } from "@keyflow/functions-sdk";
import { keyGroupRangeOf } from "../partition/key-groups.js";
import type { KeyedStatePart } from "../state/keyed-state-part.js";
import { type OperatorListStatePart, OperatorStateSnapshots } from "../state/operator-state-snapshots.js";
import type { OperatorRestore, OperatorSnapshot } from "../state/snapshot.js";
import type { SnapshotMode } from "../util/change-tracker.js";
import { isRecordPathFailure, UserFunctionError } from "./errors.js";
import type { OperatorContext, Output, StreamOperator } from "./operator.js";

/**
 * Shared plumbing of the built-in operators: the output, the current record's timestamp and
 * watermark, the rich-function lifecycle, and turning a user function's exception into a
 * UserFunctionError that names the operator, shard and record.
 *
 * Checkpoints: a stateful operator lists its state parts once, in its constructor
 * (`checkpointState`); snapshots, restores and completions then go to them. Completion and
 * abortion are forwarded to user functions that define `notifyCheckpointComplete` /
 * `notifyCheckpointAborted`. An operator without state snapshots nothing and refuses state on restore.
 */
export abstract class AbstractOperator implements StreamOperator {
  readonly node: OperatorNode;
  protected readonly output: Output;
  protected watermark = Number.NEGATIVE_INFINITY;
  protected readonly shardName: string;
  /** The operator's checkpointed state; undefined for an operator without state. */
  private state: OperatorStateSnapshots | undefined;

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

  /** Declares what this operator checkpoints (once, in the constructor). */
  protected checkpointState(keyed: readonly KeyedStatePart[], list?: OperatorListStatePart): void {
    this.state = this.stateOf(keyed, list);
  }

  private stateOf(keyed: readonly KeyedStatePart[], list?: OperatorListStatePart): OperatorStateSnapshots {
    const { runtime } = this.context;
    return new OperatorStateSnapshots({
      uid: runtime.operatorUid,
      owner: this.shardName,
      keyGroups: keyGroupRangeOf(runtime.shardIndex, runtime.maxParallelism, runtime.parallelism),
      keyed,
      list,
    });
  }

  snapshotState(checkpointId: number, mode: SnapshotMode): OperatorSnapshot | undefined {
    return this.state?.snapshot(checkpointId, mode);
  }

  restoreState(restore: OperatorRestore): void | Promise<void> {
    if (this.state !== undefined) return this.state.restore(restore);
    // No state of its own: anything in the checkpoint for it is a mismatch, reported by name.
    return this.stateOf([]).restore(restore);
  }

  async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    this.state?.checkpointComplete(checkpointId);
    await this.notifyFunctions("notifyCheckpointComplete", checkpointId);
  }

  async notifyCheckpointAborted(checkpointId: number): Promise<void> {
    await this.notifyFunctions("notifyCheckpointAborted", checkpointId);
  }

  /** Calls `method` on every user function that defines it, in order; a failure is named and rethrown. */
  protected async notifyFunctions(
    method: "notifyCheckpointComplete" | "notifyCheckpointAborted",
    checkpointId: number,
  ): Promise<void> {
    for (const fn of this.functions()) {
      const rich = fn as RichFunction | undefined;
      if (rich !== undefined && rich !== null && typeof rich === "object" && typeof rich[method] === "function") {
        try {
          await rich[method](checkpointId);
        } catch (error) {
          throw this.failureIn(error, `(${method} ${checkpointId})`);
        }
      }
    }
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
