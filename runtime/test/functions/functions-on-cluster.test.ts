import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MemoryCheckpointStorage } from "../../src/checkpoint/memory-checkpoint-storage.js";
import { execute, type NodeResult, runNode } from "../../src/index.js";
import { type NatsServerHandle, startNatsServer } from "../helpers/nats-server.js";
import { assertSameResults, assertScenarios, type ScenarioResults } from "./scenario-results.js";

const MODULE = new URL("../fixtures/functions-scenarios-job.js", import.meta.url);

/** One sink's records over every node's results. */
const merged =
  (results: readonly NodeResult[]): ScenarioResults =>
  (sink) =>
    results.flatMap((r) => Object.values(r.collected[sink] ?? {}).flat());

describe("per-key functions on a static cluster of two nodes over NATS", () => {
  let server: NatsServerHandle;
  before(async () => {
    server = await startNatsServer({ jetstream: false });
  });
  after(async () => {
    await server?.stop();
  });

  const runCluster = (parallelism: number, jobId: string, checkpointed = false) => {
    const storage = new MemoryCheckpointStorage();
    return Promise.all(
      [0, 1].map((node) =>
        runNode({
          natsUrl: server.url,
          job: MODULE,
          node,
          nodes: 2,
          parallelism,
          jobId,
          peerTimeoutMs: 5_000,
          ...(checkpointed
            ? { checkpoints: { intervalMs: 20, timeoutMs: 10_000, ...(node === 0 ? { storage } : {}) } }
            : {}),
        }),
      ),
    );
  };

  for (const parallelism of [2, 4]) {
    it(`count, ping-pong, self-message, fan out and delay exactly at parallelism ${parallelism}, as on one thread`, async () => {
      const nodes = await runCluster(parallelism, `functions-p${parallelism}`);
      assertScenarios(merged(nodes), parallelism);
      // Each node ran its shards: shard i of the counters on node i mod 2.
      const shards = nodes.map((n) => Object.keys(n.collected.counts ?? {}).sort());
      assert.deepEqual(shards[0], parallelism === 2 ? ["0"] : ["0", "2"]);
      const oneThread = await execute(MODULE, { parallelism, workers: 0 });
      const results = oneThread.collected;
      assertSameResults(merged(nodes), (sink) => results.get(sink) ?? []);
    });
  }

  it("take checkpoints across the nodes' loops (node 0 leads) and still finish with exact results", async () => {
    const nodes = await runCluster(4, "functions-checkpointed", true);
    assertScenarios(merged(nodes), 4);
  });
});
