import { parentPort, workerData } from "node:worker_threads";
import { CROSS_THREAD_BATCH_FACTOR, PortChannelReader, PortChannelWriter, PortLink } from "../channel/port-channel.js";
import { CheckpointFollower } from "../checkpoint-protocol/checkpoint-follower.js";
import { ThreadCheckpointLink } from "../checkpoint-protocol/port-checkpoint-link.js";
import { FeedbackNetwork } from "../handler/feedback-network.js";
import { buildExecutionPlan } from "../plan/execution-plan.js";
import { placeShard } from "../plan/placement.js";
import { answerOnHost } from "../query/answer-on-host.js";
import { systemClock } from "../time/clock.js";
import { serializeError } from "../util/serialized-error.js";
import { loadJob } from "./load-job.js";
import { type RemoteChannelFactory, ShardHost } from "./shard-host.js";
import type { FromWorker, ToWorker, WorkerSetup } from "./worker-protocol.js";

/**
 * The body of a worker thread: load the job module, host the shards placed on this thread,
 * link to the other threads by MessagePort, and report results and the outcome to the parent.
 * In a checkpointed job it is a follower of the main thread, which leads the checkpoints.
 */
const setup = workerData as WorkerSetup;
const parent = parentPort;
if (parent === null) throw new Error("worker-entry must run in a worker thread");
// Messages are cloned, never transferred: a shard's thread must not detach a buffer (state/column-buffers.ts).
const post = (message: FromWorker) => parent.postMessage(message);

let host: ShardHost | undefined;
const checkpointLink = setup.checkpointed
  ? new ThreadCheckpointLink((envelope) => post(envelope), systemClock)
  : undefined;
// Listening before the follower prepares: its restore requests are answered on this port.
parent.on("message", (message: ToWorker) => {
  if (message.type === "checkpoint") {
    checkpointLink?.receive(message);
  } else if (message.type === "start") {
    const started = host;
    if (started === undefined) return;
    void started.run().then(async (outcome) => {
      // The parent terminates workers on the outcome, which drops stdout not yet handed over
      // (print sinks): wait until the parent has taken everything written so far.
      await Promise.all([drained(process.stdout), drained(process.stderr)]);
      post({ type: "outcome", outcome });
    });
  } else if (message.type === "finish-job") {
    try {
      host?.finishJob();
    } catch (error) {
      post({ type: "outcome", outcome: { kind: "failed", error: serializeError(error) } });
      return;
    }
    void Promise.all([drained(process.stdout), drained(process.stderr)]).then(() => post({ type: "job-finished" }));
  } else if (message.type === "cancel") {
    host?.cancel();
  } else if (message.type === "query") {
    const { id, query } = message;
    const place = { node: setup.node, nodes: setup.nodes, thread: setup.thread, threads: setup.threads };
    const reply =
      host === undefined
        ? Promise.resolve({
            ok: false as const,
            error: {
              code: "QUERY_SHARD_UNAVAILABLE" as const,
              message: `worker thread ${setup.thread} has not loaded the job yet`,
              details: {},
            },
          })
        : answerOnHost(host, query, place);
    void reply.then((answer) => post({ type: "query-reply", id, reply: answer }));
  }
});

try {
  const job = await loadJob(setup.moduleUrl);
  let follower: CheckpointFollower | undefined;
  if (checkpointLink !== undefined) {
    // Before the host: source shards take their restored splits when it builds them.
    follower = await CheckpointFollower.prepare({
      link: checkpointLink,
      id: setup.thread,
      name: `worker thread ${setup.thread}`,
      leaderName: "the main thread",
      location: { node: setup.node, thread: setup.thread },
      nodes: setup.nodes,
      threadsPerNode: setup.threads,
      job,
      plan: buildExecutionPlan(job.build(), setup.planOptions),
      clock: systemClock,
      waitMs: 10_000,
      // The main thread logs the restore once for the job.
      log: () => {},
    });
  }
  const links = new Map<number, PortLink>();
  for (const { peer, port } of setup.links) links.set(peer, new PortLink(port));
  const linkTo = (thread: number): PortLink => {
    const link = links.get(thread);
    if (link === undefined) throw new Error(`no port to thread ${thread}`);
    return link;
  };
  const crossThread: RemoteChannelFactory = {
    writer: (channel, target, credit) =>
      new PortChannelWriter(channel.id, linkTo(target.thread), credit, setup.batchSize * CROSS_THREAD_BATCH_FACTOR),
    reader: (channel, source, gate) =>
      new PortChannelReader(channel.id, linkTo(source.thread), gate, channel.inputChannel),
  };
  // Messages between per-key functions on other threads go over the same ports (feedback batches).
  const feedback = new FeedbackNetwork({
    here: setup.node * setup.threads + setup.thread,
    locate: (shard) => {
      const location = placeShard(shard, setup.nodes, setup.threads);
      return location.node * setup.threads + location.thread;
    },
    route: (location) => {
      const link = links.get(location % setup.threads);
      return Math.floor(location / setup.threads) !== setup.node || link === undefined
        ? undefined
        : (bytes) => link.postFeedback(bytes);
    },
  });
  for (const link of links.values()) link.onFeedback((bytes) => feedback.receive(bytes));
  host = new ShardHost({
    job,
    planOptions: setup.planOptions,
    location: { node: setup.node, thread: setup.thread },
    nodes: setup.nodes,
    threadsPerNode: setup.threads,
    clock: systemClock,
    results: {
      add: (sink, shard, values, transaction) => post({ type: "collect", sink, shard, values, transaction }),
      addMetrics: (operator, shard, metrics) => post({ type: "metrics", operator, shard, metrics }),
    },
    batchSize: setup.batchSize,
    bufferTimeoutMs: setup.bufferTimeoutMs,
    credit: setup.credit,
    crossThread,
    feedback,
    ...(follower === undefined ? {} : { checkpointing: follower.shardCheckpointing, deferJobFinished: true }),
  });
  follower?.start(host);
  host.onClose(() => {
    follower?.stop();
    for (const link of links.values()) link.close();
  });
  post({ type: "ready" });
} catch (error) {
  post({ type: "outcome", outcome: { kind: "failed", error: serializeError(error) } });
}

/** Resolves once everything written to a worker's stdio stream so far reached the parent thread. */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write("", () => resolve()));
}
