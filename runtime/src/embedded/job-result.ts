import type { CollectSink } from "@keyflow/functions-sdk";
import type { ResultCollector } from "../operator/operator.js";

/** What a finished bounded job returns: the records each collect sink gathered. */
export interface JobResult {
  readonly jobName: string;
  readonly durationMs: number;
  /** The records of a collect sink: shard 0's in emission order, then shard 1's, and so on. */
  get<T>(sink: CollectSink<T>): T[];
  /** Every collect sink's records by name. */
  readonly collected: ReadonlyMap<string, unknown[]>;
}

/** Gathers collect-sink chunks as shards send them, kept per shard so order within a shard holds. */
export class ResultBuffer implements ResultCollector {
  private readonly sinks = new Map<string, Map<number, unknown[][]>>();

  add(sinkName: string, shardIndex: number, values: unknown[]): void {
    let shards = this.sinks.get(sinkName);
    if (shards === undefined) {
      shards = new Map();
      this.sinks.set(sinkName, shards);
    }
    const chunks = shards.get(shardIndex);
    if (chunks === undefined) shards.set(shardIndex, [values]);
    else chunks.push(values);
  }

  toResult(jobName: string, durationMs: number): JobResult {
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
      collected,
      get<T>(sink: CollectSink<T>): T[] {
        return (collected.get(sink.name) ?? []) as T[];
      },
    };
  }
}
