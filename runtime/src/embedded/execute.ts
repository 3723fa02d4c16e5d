import { availableParallelism } from "node:os";
import type { JobDefinition } from "@keyflow/functions-sdk";
import { DEFAULT_CHANNEL_CREDIT } from "../channel/channel.js";
import type { CheckpointCoordinator, CheckpointingOptions } from "../checkpoint/checkpoint-coordinator.js";
import type { CheckpointMetadata, CheckpointStorage } from "../checkpoint/checkpoint-storage.js";
import { MemoryCheckpointStorage } from "../checkpoint/memory-checkpoint-storage.js";
import { type JobControl, runWithCheckpoints } from "../coordinator/checkpointed-run.js";
import type { RestartStrategy } from "../coordinator/restart-strategy.js";
import { JobCancelledError, JobFailedError } from "../node/errors.js";
import { jobModuleUrl, loadJob } from "../node/load-job.js";
import { CANCELLED_OUTCOME, type HostOutcome, ShardHost } from "../node/shard-host.js";
import { runOnWorkers } from "../node/worker-pool.js";
import { buildExecutionPlan } from "../plan/execution-plan.js";
import { LocalQueryRouter, runOnThisThread } from "../query/local-query-router.js";
import type { StateQueryClient } from "../query/state-query-client.js";
import { type Clock, systemClock } from "../time/clock.js";
import { type JobResult, ResultBuffer } from "./job-result.js";

export interface ExecuteOptions {
  /** Parallelism of operators that set none (overrides the job's default). */
  readonly parallelism?: number;
  /**
   * Worker threads. 0 runs every shard on the calling thread. Default: for a job module, one per
   * core up to the job's highest parallelism (0 when that is 1); for a job definition, 0.
   */
  readonly workers?: number;
  /** Records per batch on channels. Default 1000; 4× that on channels between worker threads (each batch is a message). */
  readonly batchSize?: number;
  /** Longest a partial batch waits while its shard is busy, in ms. Default 10. */
  readonly bufferTimeoutMs?: number;
  /** Credit per channel, in batches. Default 8. */
  readonly credit?: number;
  /**
   * Processing time (only with workers: 0; worker threads use the system clock, while the
   * checkpoint coordinator of a job on workers uses this one).
   */
  readonly clock?: Clock;
  /** Aborting cancels the job; `execute` then rejects with JobCancelledError. */
  readonly signal?: AbortSignal;
  /**
   * Take checkpoints (interval, timeout, min pause, max concurrent) into `storage` (default: in
   * memory), and restart from the latest completed one when the job fails. On worker threads the
   * calling thread leads: it owns the storage and the coordinator, and a failure (a function that
   * throws, a worker that dies) restarts a new pool of workers from the latest checkpoint.
   */
  readonly checkpoints?: CheckpointingOptions & { readonly storage?: CheckpointStorage };
  /** With checkpoints: what to do on failure. Default: fixed delay, 1 s, practically unlimited attempts (Flink's default). */
  readonly restartStrategy?: RestartStrategy;
  /** Called with each run's checkpoint coordinator (its state). */
  readonly onCoordinator?: (coordinator: CheckpointCoordinator) => void;
  /** With checkpoints: called once with the job's controls (savepoint, stop-with-savepoint). */
  readonly onControl?: (control: JobControl) => void;
  /**
   * With checkpoints: start from this savepoint or checkpoint — of `checkpoints.storage`, or of
   * its own storage (an exported savepoint).
   */
  readonly fromSavepoint?:
    | CheckpointMetadata
    | { readonly storage: CheckpointStorage; readonly checkpoint: CheckpointMetadata };
  /** With `fromSavepoint`: drop state of operators the job no longer has instead of failing. */
  readonly allowNonRestoredState?: boolean;
  /** Where the runtime says what it does (checkpoints, restarts). */
  readonly log?: (message: string) => void;
  /**
   * Queryable state: called once, before the job starts, with a client that reads one key's state
   * from the running job (`client.query(counter, "user-7")`), on the thread of the shard owning the
   * key (the calling thread or a worker), between two elements. Queries sent while the job is not
   * running (restarting, ended) answer QUERY_SHARD_UNAVAILABLE; sent while it starts, they wait
   * for its shards to run.
   */
  readonly onQueryable?: (client: StateQueryClient) => void;
}

/**
 * Runs a job embedded in this process and resolves with its result when every source ended and
 * end-of-input reached every sink. Rejects with JobFailedError naming the operator, shard and
 * record when a shard fails; nothing is left running either way.
 *
 * A job definition runs on the calling thread (it has no module to load in workers); pass the
 * job module's path or URL to run on worker threads:
 * `await execute("./dist/jobs/max-temperature.js", { parallelism: 2 })`.
 */
export async function execute(job: JobDefinition | string | URL, options: ExecuteOptions = {}): Promise<JobResult> {
  const started = performance.now();
  const results = new ResultBuffer();
  const batchSize = options.batchSize ?? 1000;
  const bufferTimeoutMs = options.bufferTimeoutMs ?? 10;
  const credit = options.credit ?? DEFAULT_CHANNEL_CREDIT;
  const planOptions = options.parallelism === undefined ? {} : { parallelism: options.parallelism };
  const definition = typeof job === "object" && !(job instanceof URL) ? job : await loadJob(job);
  const plan = buildExecutionPlan(definition.build(), planOptions);
  const widest = Math.max(...plan.vertices.map((v) => v.parallelism));
  const isModule = typeof job === "string" || job instanceof URL;
  const workers = options.workers ?? (isModule && widest > 1 ? Math.min(availableParallelism(), widest) : 0);
  if (workers > 0 && !isModule) {
    throw new TypeError("execute(): worker threads need the job's module path or URL, not a job definition");
  }

  // An abort event fires once: a signal aborted before the job started would never be heard.
  if (options.signal?.aborted) throw new JobCancelledError(definition.name);
  const queries = options.onQueryable === undefined ? undefined : new LocalQueryRouter(definition.name);
  if (queries !== undefined) options.onQueryable?.(queries.client);
  let outcome: HostOutcome;
  let savepoint: CheckpointMetadata | undefined;
  let startupMs = performance.now() - started;
  if (options.checkpoints !== undefined) {
    const ended = await runWithCheckpoints({
      job: definition,
      planOptions,
      clock: options.clock ?? systemClock,
      results,
      batchSize,
      bufferTimeoutMs,
      credit,
      checkpoints: options.checkpoints,
      storage: options.checkpoints.storage ?? new MemoryCheckpointStorage(),
      restart: options.restartStrategy ?? { kind: "fixedDelay", attempts: Number.MAX_SAFE_INTEGER, delayMs: 1_000 },
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.log === undefined ? {} : { log: options.log }),
      ...(options.onCoordinator === undefined ? {} : { onCoordinator: options.onCoordinator }),
      ...(options.onControl === undefined ? {} : { onControl: options.onControl }),
      ...fromOption(options.fromSavepoint),
      ...(workers === 0 ? {} : { workers: { moduleUrl: jobModuleUrl(job as string | URL), threads: workers } }),
      ...(options.allowNonRestoredState === undefined ? {} : { allowNonRestoredState: options.allowNonRestoredState }),
      ...(queries === undefined ? {} : { queries }),
    });
    if (ended.kind === "stopped") {
      savepoint = ended.savepoint;
      outcome = { kind: "finished" };
    } else {
      outcome = ended;
    }
  } else if (workers === 0) {
    const host = new ShardHost({
      job: definition,
      planOptions,
      location: { node: 0, thread: 0 },
      nodes: 1,
      threadsPerNode: 1,
      clock: options.clock ?? systemClock,
      results,
      batchSize,
      bufferTimeoutMs,
      credit,
    });
    const onAbort = () => host.cancel();
    options.signal?.addEventListener("abort", onAbort);
    const aborted = new Promise<HostOutcome>((resolve) =>
      options.signal?.addEventListener("abort", () => resolve(CANCELLED_OUTCOME)),
    );
    const detachQueries = queries?.attach(runOnThisThread(host));
    outcome = await Promise.race([host.run(), aborted]);
    detachQueries?.();
    options.signal?.removeEventListener("abort", onAbort);
  } else {
    let detachQueries: (() => void) | undefined;
    outcome = await runOnWorkers({
      moduleUrl: jobModuleUrl(job as string | URL),
      planOptions,
      threads: workers,
      batchSize,
      bufferTimeoutMs,
      credit,
      results,
      onStarted: () => {
        startupMs = performance.now() - started;
      },
      ...(queries === undefined
        ? {}
        : { onQueryable: (ask) => (detachQueries = queries.attach({ plan, threads: workers, ask })) }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    detachQueries?.();
  }
  if (outcome.kind === "failed") {
    if (outcome.error.code === "JOB_CANCELLED") throw new JobCancelledError(definition.name);
    throw new JobFailedError(definition.name, outcome.error);
  }
  return results.toResult(definition.name, performance.now() - started, startupMs, savepoint);
}

function fromOption(from: ExecuteOptions["fromSavepoint"]): {
  from?: CheckpointMetadata;
  fromStorage?: CheckpointStorage;
} {
  if (from === undefined) return {};
  if ("checkpoint" in from) return { from: from.checkpoint, fromStorage: from.storage };
  return { from };
}
