import { parentPort, workerData } from "node:worker_threads";
import { PortChannelReader, PortChannelWriter, PortLink } from "../channel/port-channel.js";
import { systemClock } from "../time/clock.js";
import { serializeError } from "../util/serialized-error.js";
import { loadJob } from "./load-job.js";
import { type RemoteChannelFactory, ShardHost } from "./shard-host.js";
import type { FromWorker, ToWorker, WorkerSetup } from "./worker-protocol.js";

/**
 * The body of a worker thread: load the job module, host the shards placed on this thread,
 * link to the other threads by MessagePort, and report results and the outcome to the parent.
 */
const setup = workerData as WorkerSetup;
const parent = parentPort;
if (parent === null) throw new Error("worker-entry must run in a worker thread");
const post = (message: FromWorker) => parent.postMessage(message);

try {
  const job = await loadJob(setup.moduleUrl);
  const links = new Map<number, PortLink>();
  for (const { peer, port } of setup.links) links.set(peer, new PortLink(port));
  const linkTo = (thread: number): PortLink => {
    const link = links.get(thread);
    if (link === undefined) throw new Error(`no port to thread ${thread}`);
    return link;
  };
  const crossThread: RemoteChannelFactory = {
    writer: (channel, target, credit) => new PortChannelWriter(channel.id, linkTo(target.thread), credit),
    reader: (channel, source, gate) =>
      new PortChannelReader(channel.id, linkTo(source.thread), gate, channel.inputChannel),
  };
  const host = new ShardHost({
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
  });
  host.onClose(() => {
    for (const link of links.values()) link.close();
  });
  parent.on("message", (message: ToWorker) => {
    if (message.type === "start") {
      void host.run().then(async (outcome) => {
        // The parent terminates workers on the outcome, which drops stdout not yet handed over
        // (print sinks): wait until the parent has taken everything written so far.
        await Promise.all([drained(process.stdout), drained(process.stderr)]);
        post({ type: "outcome", outcome });
      });
    } else if (message.type === "cancel") {
      host.cancel();
    }
  });
  post({ type: "ready" });
} catch (error) {
  post({ type: "outcome", outcome: { kind: "failed", error: serializeError(error) } });
}

/** Resolves once everything written to a worker's stdio stream so far reached the parent thread. */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write("", () => resolve()));
}
