import type { JobDefinition } from "@keyflow/functions-sdk";
import { CheckpointCoordinator, type CheckpointingOptions } from "../checkpoint/checkpoint-coordinator.js";
import type { CheckpointMetadata, CheckpointStorage } from "../checkpoint/checkpoint-storage.js";
import { CheckpointRefusedError } from "../checkpoint/errors.js";
import type { ShardCheckpointing } from "../checkpoint/shard-checkpointing.js";
import { CheckpointLeader } from "../checkpoint-protocol/checkpoint-leader.js";
import {
  CheckpointRestore,
  checkpointedOperators,
  latestRestorable,
} from "../checkpoint-protocol/checkpoint-restore.js";
import { PoolCheckpointLink } from "../checkpoint-protocol/port-checkpoint-link.js";
import { CANCELLED_OUTCOME, type HostOutcome, ShardHost } from "../node/shard-host.js";
import { runOnWorkers } from "../node/worker-pool.js";
import type { ResultCollector } from "../operator/operator.js";
import { buildExecutionPlan, type PlanOptions } from "../plan/execution-plan.js";
import { type LocalQueryRouter, runOnThisThread } from "../query/local-query-router.js";
import type { Clock } from "../time/clock.js";
import { serializeError } from "../util/serialized-error.js";
import { JobEndedBeforeStopError } from "./errors.js";
import { type JobStatus, JobStatusTracker } from "./job-status.js";
import { RestartPolicy, type RestartStrategy } from "./restart-strategy.js";

export interface CheckpointedRunOptions {
  readonly job: JobDefinition;
  readonly planOptions: PlanOptions;
  readonly clock: Clock;
  readonly results: ResultCollector;
  readonly batchSize: number;
  readonly bufferTimeoutMs: number;
  readonly credit: number;
  readonly checkpoints: CheckpointingOptions;
  readonly storage: CheckpointStorage;
  readonly restart: RestartStrategy;
  /** Start from this checkpoint or savepoint instead of the storage's latest (of `fromStorage` when given). */
  readonly from?: CheckpointMetadata;
  /** Where `from` is stored, when not in `storage` (an exported savepoint's own store). */
  readonly fromStorage?: CheckpointStorage;
  readonly allowNonRestoredState?: boolean;
  readonly signal?: AbortSignal;
  readonly log?: (message: string) => void;
  /** Called with each run's coordinator (to show its state). */
  readonly onCoordinator?: (coordinator: CheckpointCoordinator) => void;
  /** Called once with the job's controls: savepoints, and stop-with-savepoint. */
  readonly onControl?: (control: JobControl) => void;
  /**
   * Run the shards on worker threads of this process instead of the calling thread: the job's
   * module (each worker loads it) and how many threads. The calling thread then leads the
   * checkpoints and hosts no shard.
   */
  readonly workers?: { readonly moduleUrl: string; readonly threads: number };
  /** Queryable state: each run is attached to this router while it runs. */
  readonly queries?: LocalQueryRouter;
}

/** What a running checkpointed job can be asked to do. */
export interface JobControl {
  /** Takes a savepoint; resolves with its metadata once it is complete. */
  savepoint(): Promise<CheckpointMetadata>;
  /** Takes a checkpoint now (incremental where it can be); resolves with its metadata once it is complete. */
  checkpoint(): Promise<CheckpointMetadata>;
  /** Takes a savepoint, then stops the job gracefully: the run ends "stopped" with that savepoint. */
  stopWithSavepoint(): Promise<CheckpointMetadata>;
  /** What the job is doing now: its run, the checkpoint coordinator's state, the latest checkpoint. */
  status(): JobStatus;
}

/** How a checkpointed run ended: like a host, or stopped at a savepoint on request. */
export type CheckpointedOutcome = HostOutcome | { readonly kind: "stopped"; readonly savepoint: CheckpointMetadata };

/**
 * Runs a job with checkpoints, on this thread or on worker threads (`workers`), restarting it
 * from the latest completed checkpoint when it fails, as its restart strategy allows. Every
 * restart rebuilds every shard (on workers: a new pool, the old workers terminated): state comes
 * back from the checkpoint, sources resume at its positions, and transactional sinks commit what
 * it pre-committed — so the job's state and collect results are exactly-once.
 */
export async function runWithCheckpoints(options: CheckpointedRunOptions): Promise<CheckpointedOutcome> {
  const tracker = new JobStatusTracker(options.job.name);
  try {
    return await runUntilEnded(options, tracker);
  } finally {
    tracker.ended();
  }
}

async function runUntilEnded(options: CheckpointedRunOptions, tracker: JobStatusTracker): Promise<CheckpointedOutcome> {
  const policy = new RestartPolicy(options.restart);
  const log = options.log ?? (() => {});
  let nextId = 1;
  let current: { coordinator: CheckpointCoordinator; stop: (savepoint: CheckpointMetadata) => void } | undefined;
  const noRun = (kind: "checkpoint" | "savepoint") =>
    new CheckpointRefusedError(kind, "the job is not running (it is restarting, or has ended)");
  options.onControl?.({
    savepoint: () => current?.coordinator.savepoint() ?? Promise.reject(noRun("savepoint")),
    checkpoint: () => current?.coordinator.checkpointNow() ?? Promise.reject(noRun("checkpoint")),
    async stopWithSavepoint() {
      const run = current;
      if (run === undefined) throw noRun("savepoint");
      const savepoint = await run.coordinator.savepoint();
      // The run ended while the savepoint completed (its sources finished): the job's results go
      // past the savepoint, so the run did not stop there and must not say so.
      if (current !== run) throw new JobEndedBeforeStopError(savepoint.id);
      run.stop(savepoint);
      return savepoint;
    },
    status: () => tracker.status(),
  });
  let from = options.from ?? (await latestRestorable(options.storage, log));
  // `from` is read from its own store until this run has completed a checkpoint of its own.
  let fromStorage = options.from !== undefined ? (options.fromStorage ?? options.storage) : options.storage;
  for (;;) {
    if (options.signal?.aborted) return CANCELLED_OUTCOME;
    let stopped: CheckpointMetadata | undefined;
    let resolveStop: (outcome: HostOutcome) => void = () => {};
    const stopRequested = new Promise<HostOutcome>((resolve) => {
      resolveStop = resolve;
    });
    let attempt: Attempt;
    tracker.runStarting(from);
    try {
      const start = options.workers === undefined ? startOnThisThread : startOnWorkers;
      attempt = await start(options, { from, fromStorage, firstId: nextId, log }, (coordinator) => {
        current = {
          coordinator,
          stop: (savepoint) => {
            stopped = savepoint;
            attempt.cancel();
            resolveStop(CANCELLED_OUTCOME);
          },
        };
        tracker.runStarted(coordinator);
        options.onCoordinator?.(coordinator);
      });
    } catch (error) {
      const failure = serializeError(error);
      tracker.runEnded(failure.message);
      return { kind: "failed", error: failure };
    }
    const runStartedAt = options.clock.now();
    const cancelled = new Promise<HostOutcome>((resolve) => {
      options.signal?.addEventListener("abort", () => resolve(CANCELLED_OUTCOME), { once: true });
    });
    const onAbort = () => attempt.cancel();
    options.signal?.addEventListener("abort", onAbort);
    const outcome = await Promise.race([attempt.outcome, stopRequested, cancelled]);
    options.signal?.removeEventListener("abort", onAbort);
    current = undefined;
    await attempt.stop();
    tracker.runEnded(outcome.kind === "failed" ? outcome.error.message : undefined);
    nextId = Math.max(nextId, attempt.lastTriggeredId + 1);
    if (stopped !== undefined) {
      log(`job stopped with savepoint ${stopped.id}`);
      return { kind: "stopped", savepoint: stopped };
    }
    if (outcome.kind === "finished" || options.signal?.aborted) {
      return options.signal?.aborted ? CANCELLED_OUTCOME : outcome;
    }
    const decision = policy.onFailure(options.clock.now(), runStartedAt);
    if (!decision.restart) {
      return {
        kind: "failed",
        error: { ...outcome.error, message: `${outcome.error.message} (not restarted: ${decision.why})` },
      };
    }
    const own = await latestRestorable(options.storage, log);
    from = own ?? options.from;
    if (own !== undefined) fromStorage = options.storage;
    log(
      `job failed (${outcome.error.message}); restarting in ${decision.delayMs} ms from ` +
        (from === undefined ? "the beginning" : `${from.kind} ${from.id}`),
    );
    tracker.restarting();
    await options.clock.sleep(decision.delayMs);
  }
}

/** One run of the job between two failures. */
interface Attempt {
  /** Resolves when the shards finished, or with the first failure. */
  readonly outcome: Promise<HostOutcome>;
  /** Stops the shards (stop-with-savepoint, a cancelled job). */
  cancel(): void;
  /** Stops checkpointing once the run ended; checkpoints in flight are aborted. */
  stop(): Promise<void>;
  /** The highest checkpoint id triggered, so the next run's ids stay above it. */
  readonly lastTriggeredId: number;
}

interface AttemptStart {
  readonly from: CheckpointMetadata | undefined;
  readonly fromStorage: CheckpointStorage;
  readonly firstId: number;
  readonly log: (message: string) => void;
}

/** A run on this thread: one ShardHost with every shard, and a coordinator over it. */
async function startOnThisThread(
  options: CheckpointedRunOptions,
  { from, fromStorage, firstId, log }: AttemptStart,
  onCoordinator: (coordinator: CheckpointCoordinator) => void,
): Promise<Attempt> {
  let coordinator: CheckpointCoordinator | undefined;
  let restore: CheckpointRestore | undefined;
  let lastTriggeredId = 0;
  const checkpointing: ShardCheckpointing = {
    onSnapshot: (report) => coordinator?.onSnapshot(report),
    onAbandoned: (id, shard) => coordinator?.onAbandoned(id, shard),
    restoreFor: (uid, shardIndex, parallelism) => restore?.restoreFor(uid, shardIndex, parallelism),
    restoredSplits: (uid, shardIndex) => restore?.restoredSplits(uid, shardIndex),
    restoredInFlight: (uid, shardIndex) => restore?.restoredInFlight(uid, shardIndex),
  };
  const graph = options.job.build();
  const uidOf = (nodeId: number) => (graph.nodes[nodeId] as { uid: string }).uid;
  // Restore first: source shards take their splits when the host makes their readers.
  if (from !== undefined) {
    const plan = buildExecutionPlan(graph, options.planOptions);
    restore = await CheckpointRestore.load(fromStorage, from, plan, uidOf, options.allowNonRestoredState);
    log(`restoring from ${from.kind} ${from.id}${restore.inFlightNote}`);
  }
  const host = new ShardHost({
    job: options.job,
    planOptions: options.planOptions,
    location: { node: 0, thread: 0 },
    nodes: 1,
    threadsPerNode: 1,
    clock: options.clock,
    results: options.results,
    batchSize: options.batchSize,
    bufferTimeoutMs: options.bufferTimeoutMs,
    credit: options.credit,
    checkpointing,
  });
  const operators = checkpointedOperators(host.plan, uidOf, graph.maxParallelism);
  const started = new CheckpointCoordinator({
    ...options.checkpoints,
    storage: options.storage,
    clock: options.clock,
    jobName: options.job.name,
    maxParallelism: graph.maxParallelism,
    operators,
    shards: host.shardCount,
    firstId: Math.max(firstId, (from?.id ?? 0) + 1, (options.storage.lastCheckpointId ?? 0) + 1),
    trigger: (id, timestamp, savepoint, unaligned) => {
      const triggered = host.triggerCheckpoint(id, timestamp, savepoint, { unaligned });
      if (triggered === true) lastTriggeredId = Math.max(lastTriggeredId, id);
      return triggered;
    },
    notify: (id, completed) => host.notifyCheckpoint(id, completed),
    log,
  });
  coordinator = started;
  onCoordinator(started);
  started.start();
  const detachQueries = options.queries?.attach(runOnThisThread(host));
  return {
    outcome: host.run(),
    cancel: () => host.cancel(),
    stop: () => {
      detachQueries?.();
      return started.stop();
    },
    get lastTriggeredId() {
      return lastTriggeredId;
    },
  };
}

/**
 * A run on a new pool of worker threads: this thread leads the checkpoints (it owns the storage
 * and the coordinator, and serves the restored state), every worker follows over its port.
 */
async function startOnWorkers(
  options: CheckpointedRunOptions,
  { from, fromStorage, firstId, log }: AttemptStart,
  onCoordinator: (coordinator: CheckpointCoordinator) => void,
): Promise<Attempt> {
  const workers = options.workers as NonNullable<CheckpointedRunOptions["workers"]>;
  log(`running on ${workers.threads} worker threads; this thread leads the checkpoints`);
  const link = new PoolCheckpointLink();
  const plan = buildExecutionPlan(options.job.build(), options.planOptions);
  let detachQueries: (() => void) | undefined;
  const leader = await CheckpointLeader.prepare({
    link,
    job: options.job,
    plan,
    storage: options.storage,
    checkpoints: options.checkpoints,
    clock: options.clock,
    log,
    followers: workers.threads,
    restore: {
      from,
      storage: fromStorage,
      ...(options.allowNonRestoredState === undefined ? {} : { allowNonRestoredState: options.allowNonRestoredState }),
    },
    firstId,
  });
  const controller = new AbortController();
  const outcome = runOnWorkers({
    moduleUrl: workers.moduleUrl,
    planOptions: options.planOptions,
    threads: workers.threads,
    batchSize: options.batchSize,
    bufferTimeoutMs: options.bufferTimeoutMs,
    credit: options.credit,
    results: options.results,
    signal: controller.signal,
    checkpointLink: link,
    // Triggers wait until every worker restored its shards and runs them.
    onStarted: () => onCoordinator(leader.start()),
    onQueryable: (ask) => {
      detachQueries = options.queries?.attach({ plan, threads: workers.threads, ask });
    },
  });
  return {
    outcome,
    cancel: () => controller.abort(),
    stop: () => {
      detachQueries?.();
      return leader.stop();
    },
    get lastTriggeredId() {
      return leader.lastTriggeredId;
    },
  };
}
