import type { ExecutionPlan } from "../plan/execution-plan.js";
import { answerOnHost, type QueryableHost } from "./answer-on-host.js";
import { StateQueryError } from "./errors.js";
import { resolveQuery } from "./resolve-query.js";
import type { QueryReply, StateQuery } from "./state-query.js";
import { ReplyQueryClient, type StateQueryClient } from "./state-query-client.js";

/** One run of an embedded job as queries reach it: its plan, its threads, and how to ask one. */
export interface QueryableRun {
  readonly plan: ExecutionPlan;
  /** Threads the shards are placed on (1 for a run on the calling thread). */
  readonly threads: number;
  /** Sends a query to the host on `thread` (the calling thread's ShardHost, or a worker over its port). */
  ask(thread: number, query: StateQuery): Promise<QueryReply>;
}

/**
 * Routes the queries of an embedded job (one process) to the thread hosting the key's shard: the
 * calling thread, or the worker thread that placement puts the shard on. A job that restarts
 * (checkpoints) attaches each run as it starts and detaches it when it ends; between runs a query
 * is answered QUERY_SHARD_UNAVAILABLE (retriable).
 */
export class LocalQueryRouter {
  private run: QueryableRun | undefined;
  /** The client users get (`execute(job, { onQueryable })`). */
  readonly client: StateQueryClient = new ReplyQueryClient((query) => this.route(query));

  constructor(private readonly jobName: string) {}

  /** The run now answering; returns what detaches it. */
  attach(run: QueryableRun): () => void {
    this.run = run;
    return () => {
      if (this.run === run) this.run = undefined;
    };
  }

  async route(query: StateQuery): Promise<QueryReply> {
    const run = this.run;
    try {
      if (run === undefined) {
        throw new StateQueryError(
          "QUERY_SHARD_UNAVAILABLE",
          `job "${this.jobName}" is not running (starting, restarting or ended)`,
        );
      }
      const target = resolveQuery(run.plan, query, { nodes: 1, threads: run.threads });
      return await run.ask(target.location.thread, query);
    } catch (error) {
      return { ok: false, error: StateQueryError.wireOf(error) };
    }
  }
}

/** A run whose shards are all on the calling thread, in `host`. */
export function runOnThisThread(host: QueryableHost): QueryableRun {
  const place = { node: 0, nodes: 1, thread: 0, threads: 1 };
  return { plan: host.plan, threads: 1, ask: (_thread, query) => answerOnHost(host, query, place) };
}
