import { after, before, describe, it } from "node:test";
import type { CollectSink } from "@keyflow/functions-sdk";
import { runNode } from "@keyflow/runtime";
import { type NatsServerHandle, startNatsServer } from "@keyflow/runtime/testing";
import { checkAgainstReference } from "./correctness-check.js";
import { type CorrectnessCase, correctnessJob, EVENTS, SHAPES } from "./correctness-job.js";

/**
 * The same comparison on a static cluster of two nodes over NATS: the source shard on node 0,
 * window shards 0 and 2 with it, 1 and 3 on node 1, so half the keys cross NATS with their
 * watermarks. Both nodes run in this process, each with its own NATS connection.
 */
describe("event-time windows against the batch reference (two nodes over NATS)", () => {
  let server: NatsServerHandle;
  before(async () => {
    server = await startNatsServer({ jetstream: false });
  });
  after(async () => {
    await server?.stop();
  });

  for (const shape of SHAPES) {
    const c: CorrectnessCase = { shape, latenessMs: 1_000, parallelism: 4 };
    it(`${shape.kind} windows, allowed lateness 1000 ms, parallelism 4: identical results and late records`, async () => {
      const job = correctnessJob(EVENTS, c);
      const jobId = `wc${shape.kind}${Date.now()}`;
      const nodes = await Promise.all(
        [0, 1].map((node) => runNode({ natsUrl: server.url, job, node, nodes: 2, jobId })),
      );
      const get = <T>(sink: CollectSink<T>): T[] =>
        nodes.flatMap((n) => Object.values(n.collected[sink.name] ?? {}).flat() as T[]);
      checkAgainstReference(get, EVENTS, c);
    });
  }
});
