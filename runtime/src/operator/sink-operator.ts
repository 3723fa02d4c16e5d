import type { SinkSpec, SinkWriter } from "@keyflow/functions-sdk";
import { keyGroupRangeOf } from "../partition/key-groups.js";
import type { OperatorRestore, OperatorSnapshot } from "../state/snapshot.js";
import type { SnapshotMode } from "../util/change-tracker.js";
import { AbstractOperator } from "./abstract-operator.js";
import type { OperatorContext } from "./operator.js";
import { TransactionalCollect } from "./transactional-collect.js";

const COLLECT_CHUNK = 1024;

/** The end of a pipeline: print, discard, collect into the job's result, or a user's sink writer. */
export class SinkOperator extends AbstractOperator {
  private readonly writer: SinkWriter<unknown>;
  /** A collect sink in a checkpointed job: exactly-once results. */
  private readonly transactional: TransactionalCollect | undefined;

  constructor(context: OperatorContext, spec: SinkSpec) {
    super(context);
    if (spec.kind === "collect" && context.checkpointed === true) {
      const transactional = new TransactionalCollect(
        context.results,
        spec.name,
        context.node.uid,
        context.runtime.shardIndex,
      );
      this.transactional = transactional;
      context.onJobFinished?.(() => transactional.commitAll());
      this.writer = { write: (value) => transactional.write(value), flush: () => transactional.finish() };
    } else {
      this.writer = this.createWriter(spec);
    }
  }

  /** A transactional collect sink pre-commits the records since the last barrier. */
  override snapshotState(checkpointId: number, mode: SnapshotMode): OperatorSnapshot | undefined {
    const transactional = this.transactional;
    if (transactional === undefined) return super.snapshotState(checkpointId, mode);
    const { runtime } = this.context;
    return transactional.snapshot(
      checkpointId,
      keyGroupRangeOf(runtime.shardIndex, runtime.maxParallelism, runtime.parallelism),
    );
  }

  override restoreState(restore: OperatorRestore): void | Promise<void> {
    if (this.transactional === undefined) return super.restoreState(restore);
    this.transactional.restore(restore.operatorState);
  }

  protected functions(): readonly unknown[] {
    return [];
  }

  private createWriter(spec: SinkSpec): SinkWriter<unknown> {
    const { runtime } = this.context;
    switch (spec.kind) {
      case "discard":
        return { write() {} };
      case "print": {
        const shard = runtime.parallelism > 1 ? `${runtime.shardIndex + 1}> ` : "";
        const prefix = spec.prefix === undefined ? shard : `${spec.prefix}:${shard === "" ? " " : shard}`;
        return {
          write(value) {
            console.log(`${prefix}${typeof value === "string" ? value : JSON.stringify(value, bigintSafe)}`);
          },
        };
      }
      case "collect": {
        const results = this.context.results;
        let chunk: unknown[] = [];
        return {
          write(value) {
            chunk.push(value);
            if (chunk.length >= COLLECT_CHUNK) {
              results.add(spec.name, runtime.shardIndex, chunk);
              chunk = [];
            }
          },
          flush() {
            if (chunk.length > 0) results.add(spec.name, runtime.shardIndex, chunk);
            chunk = [];
          },
        };
      }
      case "user":
        try {
          return spec.sink.createWriter({
            operatorName: runtime.operatorName,
            shardIndex: runtime.shardIndex,
            parallelism: runtime.parallelism,
          });
        } catch (error) {
          throw this.failure(error, "(create writer)");
        }
    }
  }

  processRecord(value: unknown, timestamp: number): void {
    try {
      this.writer.write(value, Number.isNaN(timestamp) ? undefined : timestamp);
    } catch (error) {
      throw this.failure(error, value);
    }
  }

  override async finish(): Promise<void> {
    try {
      await this.writer.flush?.();
    } catch (error) {
      throw this.failure(error, "(flush)");
    }
  }

  /** Checkpoint completion goes to the writer (a transactional sink commits). */
  override async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    this.transactional?.checkpointComplete(checkpointId);
    await super.notifyCheckpointComplete(checkpointId);
    try {
      await this.writer.notifyCheckpointComplete?.(checkpointId);
    } catch (error) {
      throw this.failureIn(error, `(notifyCheckpointComplete ${checkpointId})`);
    }
  }

  override async notifyCheckpointAborted(checkpointId: number): Promise<void> {
    await super.notifyCheckpointAborted(checkpointId);
    try {
      await this.writer.notifyCheckpointAborted?.(checkpointId);
    } catch (error) {
      throw this.failureIn(error, `(notifyCheckpointAborted ${checkpointId})`);
    }
  }

  override async close(): Promise<void> {
    try {
      await this.writer.close?.();
    } catch (error) {
      throw this.failure(error, "(close)");
    }
  }
}

function bigintSafe(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? `${value}n` : value;
}
