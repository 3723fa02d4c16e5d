import type { JobDefinition } from "@keyflow/functions-sdk";
import { DEFAULT_CHANNEL_CREDIT } from "../channel/channel.js";
import type { CheckpointingOptions } from "../checkpoint/checkpoint-coordinator.js";
import type { CheckpointStorage } from "../checkpoint/checkpoint-storage.js";
import { CheckpointFollower } from "../checkpoint-protocol/checkpoint-follower.js";
import { CheckpointLeader } from "../checkpoint-protocol/checkpoint-leader.js";
import { NatsCheckpointLink } from "../checkpoint-protocol/nats-checkpoint-link.js";
import { JobStatusTracker } from "../coordinator/job-status.js";
import { FeedbackNetwork } from "../handler/feedback-network.js";
import { JobCancelledError, JobFailedError } from "../node/errors.js";
import { loadJob } from "../node/load-job.js";
import { ShardHost } from "../node/shard-host.js";
import { buildExecutionPlan, type ExecutionPlan } from "../plan/execution-plan.js";
import { type Clock, systemClock } from "../time/clock.js";
import { jobIdFromName } from "../transport/job-subjects.js";
import { connectNats } from "../transport/nats-connection.js";
import type { NatsLink } from "../transport/nats-link.js";
import { type SerializedError, serializeError } from "../util/serialized-error.js";
import { InvalidNodeOptionsError, PeersMissingError } from "./errors.js";
import { NatsChannelFactory } from "./nats-channel-factory.js";
import { NodeMembership } from "./node-membership.js";
import { serveNodeQueries } from "./node-queries.js";

export interface StaticNodeOptions {
  /** NATS server URL, or several comma-separated (servers of one NATS cluster). */
  readonly natsUrl: string;
  /** The job: a module path or URL (as for `keyflow run`), or a job definition. */
  readonly job: JobDefinition | string | URL;
  /** This node's id, 0 ≤ node < nodes. */
  readonly node: number;
  /** How many nodes run the job; every one must be started with the same job and options. */
  readonly nodes: number;
  /** Parallelism of operators that set none (overrides the job's default). */
  readonly parallelism?: number;
  /** Names the job's NATS subjects (`kf.<jobId>.…`). Default: the job name, "_" for characters a subject token cannot hold. */
  readonly jobId?: string;
  /** Records per batch on channels. Default 1000. */
  readonly batchSize?: number;
  /** Longest a partial batch waits while its shard is busy, in ms. Default 10. */
  readonly bufferTimeoutMs?: number;
  /** Credit per channel, in batches. Default 8. */
  readonly credit?: number;
  /** Longest wait for NATS to answer when connecting, in ms. Default 2000. */
  readonly connectTimeoutMs?: number;
  /** Interval of this node's status messages to its peers, in ms. Default 250. */
  readonly heartbeatMs?: number;
  /** Silence after which a running peer is presumed dead and the job fails, in ms. Default 10000. */
  readonly peerTimeoutMs?: number;
  /** How long to wait for every node to join before giving up (CLUSTER_PEERS_MISSING). Default 60 s. */
  readonly joinTimeoutMs?: number;
  /** How often a channel writer without credit asks its reader for the grant, in ms. Default 100. */
  readonly askIntervalMs?: number;
  readonly clock?: Clock;
  /** Aborting cancels this node and, through NATS, every other node of the job. */
  readonly signal?: AbortSignal;
  /**
   * Checkpoint the job (every node must say so). Node 0 runs the coordinator and keeps every
   * checkpoint in `storage` (required there, ignored elsewhere); the other nodes ship their
   * shards' snapshots to it over NATS and fetch their state from it when the job starts from a
   * checkpoint. A node started again after a crash (all of them: a static cluster restarts as a
   * whole) resumes from node 0's latest completed checkpoint.
   */
  readonly checkpoints?: CheckpointingOptions & { readonly storage?: CheckpointStorage };
  /** Where the node says what checkpointing does (restores, completions, aborts). */
  readonly log?: (message: string) => void;
  /**
   * Called, synchronously, with every batch of records this node's collect sinks commit into
   * `collected` (a checkpointed job's transactional batches with their transaction id, once per
   * process), so a supervisor can keep them where a killed process does not take them along
   * (`keyflow node --results-journal`). A run restored from checkpoint n commits again the
   * transactions n pre-committed, which an earlier process may have committed already: over
   * several processes, keep one batch per transaction id.
   */
  readonly onCommit?: (sink: string, shard: number, records: readonly unknown[], transaction?: string) => void;
}

/** What one node of a finished job returns. */
export interface NodeResult {
  readonly jobName: string;
  readonly jobId: string;
  readonly node: number;
  /** From the call to the end of the job on every node, start-up included. */
  readonly durationMs: number;
  /** The part of `durationMs` before this node's shards ran: loading the job, connecting, waiting for every peer to join. */
  readonly startupMs: number;
  /**
   * The records the collect sinks of this node's shards gathered: sink name -> shard index ->
   * records in the order the shard emitted them. Plain JSON; merging every node's gives the job's.
   */
  readonly collected: Record<string, Record<string, unknown[]>>;
  /**
   * Metrics of this node's operator shards (e.g. a window operator's `lateRecordsDropped`), by
   * operator name, summed over the node's shards; add up every node's for the job's.
   */
  readonly metrics: Record<string, Record<string, number>>;
}

/** Why a node stops before it finished. */
type Stop =
  | { readonly kind: "failed"; readonly error: SerializedError; readonly tellPeers: boolean }
  | { readonly kind: "cancelled"; readonly tellPeers: boolean };

/**
 * Runs one node of a static cluster: `nodes` processes, started by hand or by a supervisor with
 * the same job and options and ids 0..nodes-1, that share one NATS. Every node computes the same
 * plan and hosts the shards placed on it (shard i of each operator on node i mod nodes), all on
 * its main thread; channels between nodes are NatsChannels, the others local. Nodes may start in
 * any order: shards start once every node announced itself on `kf.<jobId>.control`, so every
 * node hears a failure published later.
 *
 * Resolves once the job finished everywhere: its shards finished, the end-of-input it owed was
 * published, and every peer said it finished (so a failure on a peer still fails this node); NATS
 * is then drained. Rejects with JobFailedError when a shard of this node fails (naming operator,
 * shard and record; the failure is published to the peers first) or a peer failed, went silent,
 * or runs another plan; with JobCancelledError when `signal` aborts or a peer was cancelled; with
 * NatsUnreachableError when NATS does not answer. Nothing of the node is left running either way.
 *
 * @example
 * const result = await runNode({ natsUrl: "nats://127.0.0.1:4222", job: "./dist/jobs/sums.js", node: 0, nodes: 2 });
 */
export async function runNode(options: StaticNodeOptions): Promise<NodeResult> {
  const { node, nodes } = options;
  if (!Number.isInteger(nodes) || nodes < 1) throw new InvalidNodeOptionsError(`nodes must be ≥ 1, got ${nodes}`);
  if (!Number.isInteger(node) || node < 0 || node >= nodes) {
    throw new InvalidNodeOptionsError(`node must be an integer in [0, ${nodes}), got ${node}`);
  }
  const started = performance.now();
  const job =
    typeof options.job === "object" && !(options.job instanceof URL) ? options.job : await loadJob(options.job);
  const jobId = options.jobId ?? jobIdFromName(job.name);
  const link = await connectNats({
    url: options.natsUrl,
    jobId,
    timeoutMs: options.connectTimeoutMs ?? 2000,
    name: `keyflow ${jobId} node ${node}`,
  });
  try {
    const metrics: Record<string, Record<string, number>> = {};
    let startupMs = 0;
    const collected = await runOnLink(job, link, options, metrics, () => {
      startupMs = performance.now() - started;
    });
    return { jobName: job.name, jobId, node, durationMs: performance.now() - started, startupMs, collected, metrics };
  } catch (error) {
    await link.close().catch(() => {});
    throw error;
  }
}

async function runOnLink(
  job: JobDefinition,
  link: NatsLink,
  options: StaticNodeOptions,
  metrics: Record<string, Record<string, number>>,
  onRunning: () => void,
): Promise<Record<string, Record<string, unknown[]>>> {
  const clock = options.clock ?? systemClock;
  const collected: Record<string, Record<string, unknown[]>> = {};
  const committed = new Set<string>();
  const planOptions = options.parallelism === undefined ? {} : { parallelism: options.parallelism };
  const log = options.log ?? (() => {});
  let leader: CheckpointLeader | undefined;
  let follower: CheckpointFollower | undefined;
  if (options.checkpoints !== undefined) {
    // Before the host: source shards take their restored splits when it builds them.
    const plan = buildExecutionPlan(job.build(), planOptions);
    if (options.node === 0) {
      const storage = options.checkpoints.storage;
      if (storage === undefined) throw new InvalidNodeOptionsError("node 0 of a checkpointed job needs a storage");
      leader = await CheckpointLeader.prepare({
        link: new NatsCheckpointLink(link),
        followers: options.nodes - 1,
        job,
        plan,
        storage,
        checkpoints: options.checkpoints,
        clock,
        log,
      });
    } else {
      follower = await CheckpointFollower.prepare({
        link: new NatsCheckpointLink(link),
        id: options.node,
        name: `node ${options.node}`,
        leaderName: "node 0",
        location: { node: options.node, thread: 0 },
        nodes: options.nodes,
        threadsPerNode: 1,
        job,
        plan,
        clock,
        waitMs: options.joinTimeoutMs ?? 60_000,
        log,
      });
    }
  }
  // Messages between per-key functions on other nodes: one subject per node (its thread 0), no
  // credit. Subscribed before the node announces itself, so no peer publishes to it unheard.
  const feedback = new FeedbackNetwork({
    here: options.node,
    locate: (shard) => shard % options.nodes,
    route: (location) =>
      location === options.node ? undefined : (bytes) => link.publish(link.subjects.feedback(location), bytes),
    maxBytes: () => link.maxPayload,
    onError: (error) => link.fail(error),
  });
  link.subscribe(link.subjects.feedback(options.node), (data) => feedback.receive(data));
  // Built before the node announces itself: a plan error surfaces here, before any peer waits on us.
  const host = new ShardHost({
    job,
    planOptions,
    location: { node: options.node, thread: 0 },
    nodes: options.nodes,
    threadsPerNode: 1,
    clock,
    results: {
      add(sink, shard, values, transaction) {
        // A restored checkpoint's pre-committed transactions are committed again: once is enough.
        if (transaction !== undefined) {
          if (committed.has(transaction)) return;
          committed.add(transaction);
        }
        const shards = (collected[sink] ??= {});
        const list = (shards[String(shard)] ??= []);
        for (const value of values) list.push(value);
        options.onCommit?.(sink, shard, values, transaction);
      },
      addMetrics(operator, _shard, values) {
        const sums = (metrics[operator] ??= {});
        for (const [name, value] of Object.entries(values)) sums[name] = (sums[name] ?? 0) + value;
      },
    },
    batchSize: options.batchSize ?? 1000,
    bufferTimeoutMs: options.bufferTimeoutMs ?? 10,
    credit: options.credit ?? DEFAULT_CHANNEL_CREDIT,
    crossNode: new NatsChannelFactory({
      link,
      ...(options.askIntervalMs === undefined ? {} : { askIntervalMs: options.askIntervalMs }),
    }),
    feedback,
    ...(leader === undefined && follower === undefined
      ? {}
      : {
          checkpointing: (leader ?? (follower as CheckpointFollower)).shardCheckpointing,
          // Commit the last transactions only once every node finished: until then a peer may
          // fail, and the cluster restart from a checkpoint older than what they hold.
          deferJobFinished: true,
        }),
  });
  follower?.start(host);
  host.scheduler.afterTick(() => link.flushCredits());
  serveNodeQueries(link, host, { node: options.node, nodes: options.nodes, thread: 0, threads: 1 });
  // Node 0 leads the checkpoints, so it answers for the job's status (`keyflow status --nats`).
  const status = options.node === 0 ? new JobStatusTracker(job.name) : undefined;
  if (status !== undefined) {
    status.runStarting(leader?.restored);
    link.serve(link.subjects.status, () => status.status());
  }

  let stop: (reason: Stop) => void = () => {};
  const stopped = new Promise<Stop>((resolve) => {
    stop = (reason) => {
      stop = () => {};
      resolve(reason);
    };
  });
  link.onError((error) => stop({ kind: "failed", error: serializeError(error), tellPeers: true }));
  const onAbort = () => stop({ kind: "cancelled", tellPeers: true });
  options.signal?.addEventListener("abort", onAbort);
  if (options.signal?.aborted) onAbort();

  const membership = new NodeMembership({
    link,
    node: options.node,
    nodes: options.nodes,
    // Checkpointing is part of the plan: a node without it would never answer node 0's triggers.
    plan: planSummary(host.plan, options.nodes) + (options.checkpoints === undefined ? "" : " checkpointed"),
    clock,
    heartbeatMs: options.heartbeatMs ?? 250,
    peerTimeoutMs: options.peerTimeoutMs ?? 10_000,
    onPeerFailure: (error) =>
      stop(
        error.code === "CLUSTER_PEER_CANCELLED"
          ? { kind: "cancelled", tellPeers: false }
          : {
              kind: "failed",
              error: serializeError(error),
              // A peer's failure is already known to every node; a lost or mismatched peer is news.
              tellPeers: error.code !== "CLUSTER_PEER_FAILED",
            },
      ),
  });
  membership.start();

  try {
    // A node that was never started must not leave the others waiting forever.
    const joinTimeoutMs = options.joinTimeoutMs ?? 60_000;
    const cancelJoinTimer = clock.schedule(joinTimeoutMs, () =>
      stop({
        kind: "failed",
        error: serializeError(new PeersMissingError(membership.missingPeers(), joinTimeoutMs)),
        tellPeers: true,
      }),
    );
    let reason = await Promise.race([membership.allJoined().then(() => undefined), stopped]);
    cancelJoinTimer();
    if (reason === undefined) {
      onRunning();
      status?.runStarted(leader?.start(host));
    }
    reason ??= await Promise.race([
      host
        .run()
        .then((o): Stop | undefined =>
          o.kind === "finished" ? undefined : { kind: "failed", error: o.error, tellPeers: true },
        ),
      stopped,
    ]);
    if (reason === undefined) {
      // Shards finished, but an end-of-input may still wait for a grant in a writer's backlog.
      reason = await Promise.race([link.writersDone().then(() => undefined), stopped]);
    }
    if (reason === undefined) {
      link.flushCredits();
      membership.setStatus("finished");
      reason = await Promise.race([membership.allFinished().then(() => undefined), stopped]);
    }
    if (reason === undefined) {
      try {
        host.finishJob();
      } catch (error) {
        reason = { kind: "failed", error: serializeError(error), tellPeers: false };
      }
    }
    await leader?.stop();
    follower?.stop();
    if (reason === undefined) {
      membership.stop();
      await link.drain();
      return collected;
    }
    host.cancel();
    if (reason.tellPeers) {
      if (reason.kind === "failed") membership.publishFailure(reason.error);
      else membership.publishCancelled();
      await withTimeout(link.flush(), 1000);
    }
    membership.stop();
    await link.close();
    if (reason.kind === "cancelled") throw new JobCancelledError(job.name);
    status?.runEnded(reason.error.message);
    throw new JobFailedError(job.name, reason.error);
  } finally {
    status?.ended();
    membership.stop();
    options.signal?.removeEventListener("abort", onAbort);
  }
}

/** What must be equal on every node: node count, vertices with their parallelism, channel count. */
function planSummary(plan: ExecutionPlan, nodes: number): string {
  const vertices = plan.vertices.map((v) => `${v.name}×${v.parallelism}`).join(", ");
  return `${nodes} nodes; ${vertices}; ${plan.channels.length} channels`;
}

async function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    await Promise.race([promise.catch(() => {}), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
