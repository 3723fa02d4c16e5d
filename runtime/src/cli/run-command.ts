import { writeFile } from "node:fs/promises";
import type { JobControl } from "../coordinator/checkpointed-run.js";
import type { RestartStrategy } from "../coordinator/restart-strategy.js";
import { execute } from "../embedded/execute.js";
import type { JobResult } from "../embedded/job-result.js";
import { loadJob } from "../node/load-job.js";
import { StateQueryError } from "../query/errors.js";
import { toJsonValue } from "../query/json-state.js";
import type { StateQuery } from "../query/state-query.js";
import type { StateQueryClient } from "../query/state-query-client.js";
import { CheckpointStore } from "../state/store/checkpoint-store.js";
import { jobIdFromName } from "../transport/job-subjects.js";
import { type ControlResponse, runSocketPath, serveControl, serveControlAt } from "./control-socket.js";

export interface RunCommandOptions {
  readonly parallelism?: number;
  readonly workers?: number;
  readonly batchSize: number;
  readonly bufferTimeout: number;
  /** A LevelDB folder for checkpoints: the job checkpoints into it and resumes from it after a crash. */
  readonly stateDir?: string;
  readonly checkpointInterval: number;
  /** Unaligned checkpoints (barriers overtake queued records, which are stored with the checkpoint). */
  readonly unalignedCheckpoints?: boolean;
  /** An exported savepoint folder to start from. */
  readonly fromSavepoint?: string;
  readonly allowNonRestoredState?: boolean;
  /** Write the collect sinks' records as JSON here when the job ends. */
  readonly results?: string;
  /** What to do when the job fails (with --state-dir). */
  readonly restart?: RestartStrategy;
  /** Completed checkpoints kept. */
  readonly retain?: number;
}

/**
 * `keyflow run`: a job embedded in this process. With `--state-dir` it takes checkpoints into
 * that LevelDB folder, restarts from the latest completed one when it fails, resumes from it
 * when started again after being killed, and answers `keyflow savepoint` on the folder's socket.
 * Shards run on worker threads as without checkpoints (`--workers 0`: on the main thread); the
 * main thread then leads the checkpoints and keeps the folder.
 */
export async function runCommand(module: string, options: RunCommandOptions): Promise<void> {
  const controller = new AbortController();
  const onSignal = () => {
    console.error("keyflow: cancelling the job…");
    controller.abort();
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const closers: Array<() => Promise<void>> = [];
  try {
    // Queryable state: every run answers `keyflow query` on its job's run socket.
    const jobId = jobIdFromName((await loadJob(module)).name);
    let queries: StateQueryClient | undefined;
    const answerQuery = (query: StateQuery) => answer(queries, query);
    const querySocket = await serveControlAt(runSocketPath(jobId), async (request) =>
      request.command === "query"
        ? answerQuery(request.query)
        : { ok: false, error: `this socket answers queries only; for a ${request.command}, use --state-dir` },
    );
    closers.push(() => new Promise((resolve) => querySocket.close(() => resolve())));
    const onQueryable = (client: StateQueryClient) => {
      queries = client;
    };
    let result: JobResult;
    if (options.stateDir === undefined) {
      if (options.fromSavepoint !== undefined) throw new Error("--from-savepoint needs --state-dir");
      result = await execute(module, {
        onQueryable,
        ...(options.parallelism === undefined ? {} : { parallelism: options.parallelism }),
        ...(options.workers === undefined ? {} : { workers: options.workers }),
        batchSize: options.batchSize,
        bufferTimeoutMs: options.bufferTimeout,
        signal: controller.signal,
      });
    } else {
      const store = await CheckpointStore.open(options.stateDir, { retain: options.retain ?? 3 });
      closers.push(() => store.close());
      let savepointStore: CheckpointStore | undefined;
      if (options.fromSavepoint !== undefined) {
        savepointStore = await CheckpointStore.open(options.fromSavepoint);
        closers.push(() => (savepointStore as CheckpointStore).close());
      }
      const savepoint = savepointStore?.latestCompleted();
      if (savepointStore !== undefined && savepoint === undefined) {
        throw new Error(`${options.fromSavepoint} holds no completed savepoint`);
      }
      let control: JobControl | undefined;
      const server = await serveControl(options.stateDir, async (request): Promise<ControlResponse> => {
        if (request.command === "query") return answerQuery(request.query);
        if (control === undefined) return { ok: false, error: "the job has not started yet" };
        if (request.command === "status") return { ok: true, status: control.status() };
        const taken =
          request.command === "stop-with-savepoint" ? await control.stopWithSavepoint() : await control.savepoint();
        if (request.target !== undefined) await store.exportSavepoint(taken.id, request.target);
        return { ok: true, savepointId: taken.id, path: request.target };
      });
      closers.push(() => new Promise((resolve) => server.close(() => resolve())));
      result = await execute(module, {
        ...(options.parallelism === undefined ? {} : { parallelism: options.parallelism }),
        ...(options.workers === undefined ? {} : { workers: options.workers }),
        batchSize: options.batchSize,
        bufferTimeoutMs: options.bufferTimeout,
        signal: controller.signal,
        checkpoints: {
          intervalMs: options.checkpointInterval,
          storage: store,
          unaligned: options.unalignedCheckpoints === true,
        },
        ...(options.restart === undefined ? {} : { restartStrategy: options.restart }),
        ...(savepoint === undefined || savepointStore === undefined
          ? {}
          : { fromSavepoint: { storage: savepointStore, checkpoint: savepoint } }),
        ...(options.allowNonRestoredState === true ? { allowNonRestoredState: true } : {}),
        onQueryable,
        onControl: (c) => {
          control = c;
        },
        log: (line) => {
          if (process.env.KEYFLOW_VERBOSE !== undefined || !/^checkpoint \d+ complete$/.test(line)) {
            console.error(`keyflow: ${line}`);
          }
        },
      });
    }
    if (options.results !== undefined) {
      await writeFile(options.results, JSON.stringify(Object.fromEntries(result.collected)));
    }
    const stopped = result.savepoint === undefined ? "" : ` (stopped with savepoint ${result.savepoint.id})`;
    console.error(`keyflow: job "${result.jobName}" finished in ${(result.durationMs / 1000).toFixed(2)} s${stopped}`);
  } catch (error) {
    if ((error as { code?: string }).code === "JOB_CANCELLED") {
      console.error("keyflow: job cancelled");
      return;
    }
    throw error;
  } finally {
    for (const close of closers.reverse()) await close().catch(() => {});
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** A query from `keyflow query`, answered with the state made JSON-friendly, or the error with its code. */
async function answer(client: StateQueryClient | undefined, query: StateQuery): Promise<ControlResponse> {
  if (client === undefined) return { ok: false, error: "the job has not started yet", code: "QUERY_SHARD_UNAVAILABLE" };
  try {
    const answer = await client.ask(query);
    return { ok: true, answer: toJsonValue(answer) };
  } catch (error) {
    const wire = StateQueryError.wireOf(error);
    return { ok: false, error: wire.message, code: wire.code, details: wire.details };
  }
}
