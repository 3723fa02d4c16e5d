import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { CollectSink } from "@keyflow/functions-sdk";
import { runNode } from "@keyflow/runtime";
import { type NatsServerHandle, startNatsServer } from "@keyflow/runtime/testing";
import { checkAgainstReference } from "./correctness-check.js";
import { type CorrectnessCase, correctnessJob, EVENTS, processed, SHAPES } from "./correctness-job.js";

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
    for (const latenessMs of [0, 1_000]) {
      const c: CorrectnessCase = { shape, latenessMs, parallelism: 4 };
      it(`${shape.kind} windows, allowed lateness ${latenessMs} ms, parallelism 4: identical results and late records`, async () => {
        const job = correctnessJob(EVENTS, c);
        const jobId = `wc${shape.kind}${Date.now()}`;
        const nodes = await Promise.all(
          [0, 1].map((node) => runNode({ natsUrl: server.url, job, node, nodes: 2, jobId })),
        );
        const get = <T>(sink: CollectSink<T>): T[] =>
          nodes.flatMap((n) => Object.values(n.collected[sink.name] ?? {}).flat() as T[]);
        checkAgainstReference(get, EVENTS, c);
        // Node 1 hosts window shards 1 and 3: their results came over NATS from the source on node 0.
        assert.deepEqual(Object.keys(nodes[1]?.collected[processed.name] ?? {}).sort(), ["1", "3"]);
        assert.ok(Object.values(nodes[1]?.collected[processed.name] ?? {}).every((records) => records.length > 0));
      });
    }
  }
});
