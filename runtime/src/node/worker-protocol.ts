import type { MessagePort } from "node:worker_threads";
import type { CheckpointEnvelope } from "../checkpoint-protocol/port-checkpoint-link.js";
import type { PlanOptions } from "../plan/execution-plan.js";
import type { QueryReply, StateQuery } from "../query/state-query.js";
import type { HostOutcome } from "./shard-host.js";

/** What a worker thread is started with. */
export interface WorkerSetup {
  readonly moduleUrl: string;
  readonly planOptions: PlanOptions;
  readonly node: number;
  readonly nodes: number;
  readonly thread: number;
  readonly threads: number;
  readonly batchSize: number;
  readonly bufferTimeoutMs: number;
  readonly credit: number;
  /**
   * The job takes checkpoints: the worker is a follower of the main thread, which leads (see
   * checkpoint-protocol/), restoring its shards' state from it and shipping their snapshots.
   */
  readonly checkpointed: boolean;
  /** One port per other thread of this process. */
  readonly links: ReadonlyArray<{ readonly peer: number; readonly port: MessagePort }>;
}

/** Messages from the parent to a worker. */
export type ToWorker =
  | { readonly type: "start" }
  | { readonly type: "cancel" }
  /** Every worker's shards finished (checkpointed jobs): run the job-finished actions. */
  | { readonly type: "finish-job" }
  /** A queryable-state query for a shard of this worker; answered with a "query-reply" of the same id. */
  | { readonly type: "query"; readonly id: number; readonly query: StateQuery }
  | CheckpointEnvelope;

/** Messages from a worker to the parent. */
export type FromWorker =
  | { readonly type: "ready" }
  | {
      readonly type: "collect";
      readonly sink: string;
      readonly shard: number;
      readonly values: unknown[];
      readonly transaction: string | undefined;
    }
  | {
      readonly type: "metrics";
      readonly operator: string;
      readonly shard: number;
      readonly metrics: Readonly<Record<string, number>>;
    }
  | { readonly type: "outcome"; readonly outcome: HostOutcome }
  /** The job-finished actions ran; their results were posted before this. */
  | { readonly type: "job-finished" }
  | { readonly type: "query-reply"; readonly id: number; readonly reply: QueryReply }
  /** Checkpoint messages share the port with results, so a commit's results precede its acknowledgement. */
  | CheckpointEnvelope;
