import { MessageChannel, type MessagePort, Worker } from "node:worker_threads";
import type { PoolCheckpointLink } from "../checkpoint-protocol/port-checkpoint-link.js";
import type { ResultCollector } from "../operator/operator.js";
import type { PlanOptions } from "../plan/execution-plan.js";
import type { QueryReply, StateQuery } from "../query/state-query.js";
import { serializeError } from "../util/serialized-error.js";
import { CANCELLED_OUTCOME, type HostOutcome } from "./shard-host.js";
import type { FromWorker, WorkerSetup } from "./worker-protocol.js";

export interface WorkerPoolOptions {
  readonly moduleUrl: string;
  readonly planOptions: PlanOptions;
  readonly threads: number;
  readonly batchSize: number;
  readonly bufferTimeoutMs: number;
  readonly credit: number;
  readonly results: ResultCollector;
  readonly signal?: AbortSignal;
  /** Called once every worker loaded the job and was told to start its shards. */
  readonly onStarted?: () => void;
  /**
   * Checkpoint the job: every worker is a follower of the leader on this link's end (on the
   * calling thread), which restores their state and gathers their snapshots.
   */
  readonly checkpointLink?: PoolCheckpointLink;
  /**
   * Called once the workers started, with how to send a queryable-state query to the worker on a
   * thread (answered on the thread of the shard owning the key). Replies still pending when the
   * pool stops answer QUERY_SHARD_UNAVAILABLE; so does a query sent after it stopped.
   */
  readonly onQueryable?: (ask: (thread: number, query: StateQuery) => Promise<QueryReply>) => void;
}

const ENTRY = new URL("./worker-entry.js", import.meta.url);

/**
 * Runs a job's shards on a pool of worker threads of this process, one MessagePort between every
 * two threads. Resolves with the first failure, or "finished" once every thread's shards are done;
 * the workers are terminated either way, so nothing is left running.
 */
export function runOnWorkers(options: WorkerPoolOptions): Promise<HostOutcome> {
  const { threads } = options;
  const ports: Array<Array<{ peer: number; port: MessagePort }>> = Array.from({ length: threads }, () => []);
  for (let a = 0; a < threads; a++) {
    for (let b = a + 1; b < threads; b++) {
      const { port1, port2 } = new MessageChannel();
      ports[a]?.push({ peer: b, port: port1 });
      ports[b]?.push({ peer: a, port: port2 });
    }
  }

  return new Promise<HostOutcome>((resolve) => {
    const workers: Worker[] = [];
    const queries = new Map<number, (reply: QueryReply) => void>();
    let nextQuery = 0;
    const stoppedReply = (): QueryReply => ({
      ok: false,
      error: { code: "QUERY_SHARD_UNAVAILABLE", message: "the job's worker threads stopped", details: {} },
    });
    const ask = (thread: number, query: StateQuery): Promise<QueryReply> => {
      const worker = workers[thread];
      if (settled || worker === undefined) return Promise.resolve(stoppedReply());
      const id = nextQuery++;
      return new Promise((resolve) => {
        queries.set(id, resolve);
        worker.postMessage({ type: "query", id, query });
      });
    };
    let ready = 0;
    let finished = 0;
    let jobFinished = 0;
    let settled = false;
    const settle = (outcome: HostOutcome) => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener("abort", onAbort);
      options.checkpointLink?.detachAll();
      for (const resolveQuery of queries.values()) resolveQuery(stoppedReply());
      queries.clear();
      // Let workers drain stdout (print sinks) before stopping them.
      void Promise.all(workers.map((worker) => worker.terminate())).then(() => resolve(outcome));
    };
    const onAbort = () => settle(CANCELLED_OUTCOME);
    options.signal?.addEventListener("abort", onAbort);

    for (let thread = 0; thread < threads; thread++) {
      const links = ports[thread] ?? [];
      const setup: WorkerSetup = {
        moduleUrl: options.moduleUrl,
        planOptions: options.planOptions,
        node: 0,
        nodes: 1,
        thread,
        threads,
        batchSize: options.batchSize,
        bufferTimeoutMs: options.bufferTimeoutMs,
        credit: options.credit,
        checkpointed: options.checkpointLink !== undefined,
        links,
      };
      const worker = new Worker(ENTRY, {
        workerData: setup,
        transferList: links.map((link) => link.port),
        // Workers inherit the process's flags; --input-type (a `node --input-type=module -e` script)
        // makes a file-based worker fail to start with ERR_INPUT_TYPE_NOT_ALLOWED.
        execArgv: process.execArgv.filter((arg) => !arg.startsWith("--input-type")),
      });
      workers.push(worker);
      options.checkpointLink?.attach(thread, (envelope) => {
        if (!settled) worker.postMessage(envelope);
      });
      worker.on("message", (message: FromWorker) => {
        switch (message.type) {
          case "ready":
            if (++ready === threads) {
              for (const w of workers) w.postMessage({ type: "start" });
              options.onStarted?.();
              options.onQueryable?.(ask);
            }
            return;
          case "collect":
            options.results.add(message.sink, message.shard, message.values, message.transaction);
            return;
          case "metrics":
            options.results.addMetrics(message.operator, message.shard, message.metrics);
            return;
          case "checkpoint":
            if (!settled) options.checkpointLink?.receive(thread, message);
            return;
          case "outcome":
            if (message.outcome.kind === "failed") settle(message.outcome);
            else if (++finished === threads) {
              // A worker whose shards finished first must not commit while another may still
              // fail and restart the job from an older checkpoint: all commit once all finished.
              if (options.checkpointLink === undefined) settle(message.outcome);
              else for (const w of workers) w.postMessage({ type: "finish-job" });
            }
            return;
          case "query-reply": {
            const resolveQuery = queries.get(message.id);
            queries.delete(message.id);
            resolveQuery?.(message.reply);
            return;
          }
          case "job-finished":
            if (++jobFinished === threads) settle({ kind: "finished" });
            return;
        }
      });
      worker.on("error", (error) => settle({ kind: "failed", error: serializeError(error) }));
      worker.on("exit", (code) => {
        if (!settled)
          settle({
            kind: "failed",
            error: serializeError(new Error(`worker thread ${thread} exited with code ${code}`)),
          });
      });
    }
  });
}
