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

  const runCluster = (
    parallelism: number,
    jobId: string,
    checkpointed = false,
    log?: (line: string) => void,
    module = MODULE,
  ) => {
    const storage = new MemoryCheckpointStorage();
    return Promise.all(
      [0, 1].map((node) =>
        runNode({
          natsUrl: server.url,
          job: module,
          node,
          nodes: 2,
          parallelism,
          jobId,
          peerTimeoutMs: 5_000,
          ...(checkpointed
            ? { checkpoints: { intervalMs: 20, timeoutMs: 10_000, ...(node === 0 ? { storage } : {}) } }
            : {}),
          ...(log === undefined ? {} : { log: (line: string) => log(`node ${node}: ${line}`) }),
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
    const lines: string[] = [];
    // A checkpoint is taken only while a source runs, and unslowed this job's sources end before
    // the first trigger: a rate-limited generator (about 1 s; its own module instance, since the
    // module reads the rate when loaded) keeps them running while the loops carry messages.
    process.env.KEYFLOW_FUNCTIONS_RATE = "10000";
    const slowed = new URL(`${MODULE.href}?rate=10000`);
    const nodes = await runCluster(4, "functions-checkpointed", true, (line) => lines.push(line), slowed).finally(
      () => delete process.env.KEYFLOW_FUNCTIONS_RATE,
    );
    assertScenarios(merged(nodes), 4);
    assert.ok(
      lines.some((line) => /^node 0: checkpoint \d+ complete$/.test(line)),
      `node 0 completed a checkpoint while the loops ran:\n${lines.join("\n")}`,
    );
  });
});
