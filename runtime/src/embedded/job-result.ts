import type { CollectSink } from "@keyflow/functions-sdk";
import type { CheckpointMetadata } from "../checkpoint/checkpoint-storage.js";
import type { ResultCollector } from "../operator/operator.js";

/** What a finished bounded job returns: the records each collect sink gathered, and operators' metrics. */
export interface JobResult {
  readonly jobName: string;
  /** From the call to the end of the job, start-up included. */
  readonly durationMs: number;
  /**
   * The part of `durationMs` before any shard ran: loading and planning the job, and on worker
   * threads starting them and loading the job module in each (about 130 ms for two workers here).
   * A benchmark's throughput is records / (durationMs - startupMs).
   */
  readonly startupMs: number;
  /** The records of a collect sink: shard 0's in emission order, then shard 1's, and so on. */
  get<T>(sink: CollectSink<T>): T[];
  /** Every collect sink's records by name. */
  readonly collected: ReadonlyMap<string, unknown[]>;
  /**
   * An operator's metrics, by operator name, summed over its shards (operators sharing a name add
   * up): e.g. a window operator's `lateRecordsDropped`. Empty for an operator that reports none.
   */
  metrics(operatorName: string): Readonly<Record<string, number>>;
  /** Set when the job was stopped with a savepoint (`stopWithSavepoint`): where to resume it. */
  readonly savepoint: CheckpointMetadata | undefined;
}

/** Gathers collect-sink chunks as shards send them, kept per shard so order within a shard holds, and operators' metrics. */
export class ResultBuffer implements ResultCollector {
  private readonly sinks = new Map<string, Map<number, unknown[][]>>();
  private readonly operatorMetrics = new Map<string, Record<string, number>>();

  private readonly transactions = new Set<string>();

  add(sinkName: string, shardIndex: number, values: unknown[], transaction?: string): void {
    if (transaction !== undefined) {
      if (this.transactions.has(transaction)) return;
      this.transactions.add(transaction);
    }
    let shards = this.sinks.get(sinkName);
    if (shards === undefined) {
      shards = new Map();
      this.sinks.set(sinkName, shards);
    }
    const chunks = shards.get(shardIndex);
    if (chunks === undefined) shards.set(shardIndex, [values]);
    else chunks.push(values);
  }

  addMetrics(operatorName: string, _shardIndex: number, metrics: Readonly<Record<string, number>>): void {
    let sums = this.operatorMetrics.get(operatorName);
    if (sums === undefined) {
      sums = {};
      this.operatorMetrics.set(operatorName, sums);
    }
    for (const [name, value] of Object.entries(metrics)) sums[name] = (sums[name] ?? 0) + value;
  }

  toResult(jobName: string, durationMs: number, startupMs: number, savepoint?: CheckpointMetadata): JobResult {
    const operatorMetrics = this.operatorMetrics;
    const collected = new Map<string, unknown[]>();
    for (const [name, shards] of this.sinks) {
      const all: unknown[] = [];
      for (const shard of [...shards.keys()].sort((a, b) => a - b)) {
        for (const chunk of shards.get(shard) ?? []) for (const value of chunk) all.push(value);
      }
      collected.set(name, all);
    }
    return {
      jobName,
      durationMs,
      startupMs,
      collected,
      savepoint,
      get<T>(sink: CollectSink<T>): T[] {
        return (collected.get(sink.name) ?? []) as T[];
      },
      metrics(operatorName: string): Readonly<Record<string, number>> {
        return { ...operatorMetrics.get(operatorName) };
      },
    };
  }
}
