import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { SeededRandom } from "@keyflow/functions-sdk";
import { type NodeResult, runNode } from "../../src/index.js";
import { CheckpointStore } from "../../src/state/store/checkpoint-store.js";
import { exitWithin, type KeyflowProcess, killAll, spawnKeyflow } from "../cli/keyflow-process.js";
import { chaosJob, EVENTS, type Total, type WindowCount } from "../fixtures/chaos-job.js";
import { assertChaosResults } from "../helpers/chaos-results.js";
import { type NatsServerHandle, startNatsServer } from "../helpers/nats-server.js";

const CHAOS_CLI_JOB = fileURLToPath(new URL("../fixtures/chaos-cli-job.js", import.meta.url));
const _byKey = (a: Total, b: Total) => a.key.localeCompare(b.key);

type Collected = NodeResult["collected"];

/** The records of one sink over both nodes' results. */
function sinkOf<T>(results: readonly Collected[], sink: string): T[] {
  return results.flatMap((collected) => Object.values(collected[sink] ?? {}).flat() as T[]);
}

/** Totals equal the failure-free run's; every window is exact and none comes twice. */
function assertExactlyOnce(results: readonly Collected[]): void {
  assertChaosResults(sinkOf<Total>(results, "totals"), sinkOf<WindowCount>(results, "windows"));
}

describe("checkpoints on a static cluster of two nodes over NATS", () => {
  let server: NatsServerHandle;
  let dir: string;

  before(async () => {
    server = await startNatsServer({ jetstream: false });
    dir = await mkdtemp(join(tmpdir(), "kf-cluster-ckpt-"));
  });
  after(async () => {
    await killAll();
    await server?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  for (const unaligned of [false, true]) {
    it(`a function that throws fails both nodes; started again, they resume from node 0's ${unaligned ? "unaligned " : ""}checkpoint with exact state`, async () => {
      const store = await CheckpointStore.open(join(dir, unaligned ? "in-process-unaligned" : "in-process"));
      try {
        const random = new SeededRandom(21);
        // Late enough that checkpoints completed before each crash.
        const failAt = new Set([
          EVENTS / 3 + random.nextInt(EVENTS / 6),
          (2 * EVENTS) / 3 + random.nextInt(EVENTS / 6),
        ]);
        const failed = new Set<number>();
        const logs: string[][] = [];
        let final: Collected[] | undefined;
        for (let attempt = 0; attempt < 6 && final === undefined; attempt++) {
          // One job definition per attempt, sharing `failed`: each chosen record fails once.
          const job = chaosJob(failAt, failed, 2, 60_000);
          const lines: string[] = [];
          logs.push(lines);
          const runs = [0, 1].map((node) =>
            runNode({
              natsUrl: server.url,
              job,
              node,
              nodes: 2,
              jobId: unaligned ? "cluster-chaos-unaligned" : "cluster-chaos",
              batchSize: 200,
              peerTimeoutMs: 2_000,
              checkpoints: {
                intervalMs: 30,
                timeoutMs: 5_000,
                unaligned,
                ...(node === 0 ? { storage: store } : {}),
              },
              log: (line) => lines.push(`node ${node}: ${line}`),
            }),
          );
          const settled = await Promise.allSettled(runs);
          if (settled.every((s) => s.status === "fulfilled")) {
            final = settled.map((s) => (s as PromiseFulfilledResult<NodeResult>).value.collected);
          } else {
            const errors = settled.map((s) => (s.status === "rejected" ? String(s.reason) : "finished"));
            assert.ok(
              errors.some((e) => /chaos at event/.test(e)),
              `attempt ${attempt} failed for another reason: ${errors.join(" | ")}`,
            );
          }
        }
        assert.ok(final !== undefined, "the job finished within six attempts");
        assert.deepEqual(failed, failAt, "every chosen record crashed the job once");
        const restores = logs.slice(1).map((lines) => lines.filter((l) => l.includes("restoring from checkpoint")));
        for (const [i, lines] of restores.entries()) {
          assert.equal(lines.length, 2, `attempt ${i + 1}: both nodes restored:\n${logs[i + 1]?.join("\n")}`);
          assert.match(lines.find((l) => l.startsWith("node 1")) ?? "", /state from node 0/);
        }
        assertExactlyOnce(final);
      } finally {
        await store.close();
      }
    });
  }

  it("keyflow node processes killed with SIGKILL (either node) resume from node 0's latest checkpoint: exact state", async () => {
    const state = (node: number) => join(dir, `sigkill-state-${node}`);
    const results = (node: number) => join(dir, `sigkill-results-${node}.json`);
    // Completed checkpoints are logged too (the children inherit it).
    process.env.KEYFLOW_VERBOSE = "1";
    // 15,000 events a second, a run lasts 4 s: at 30,000 a restored run under a loaded suite once
    // finished (1.33 s) before the seeded kill, so the survivor ended well instead of failing.
    process.env.KEYFLOW_CHAOS_RATE = "15000";
    const start = (): KeyflowProcess[] =>
      [0, 1].map((node) =>
        spawnKeyflow([
          "node",
          ...["--nats", server.url, "--job", CHAOS_CLI_JOB, "--node", String(node), "--nodes", "2"],
          ...["--job-id", "cluster-sigkill", "--state-dir", state(node), "--checkpoint-interval", "50"],
          ...["--peer-timeout", "1000", "--results", results(node)],
        ]),
      );
    const random = new SeededRandom(8);
    for (const victim of [1, 0]) {
      const nodes = start();
      // Kill once both nodes run (node 0 completed a checkpoint: a node killed before it joined
      // would leave the other waiting for the join timeout), at a seeded moment after.
      const deadline = Date.now() + 20_000;
      while (!/checkpoint \d+ complete/.test(nodes[0]?.stderr() ?? "") && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await new Promise((resolve) => setTimeout(resolve, 100 + random.nextInt(500)));
      (nodes[victim] as KeyflowProcess).child.kill("SIGKILL");
      const killed = await exitWithin(nodes[victim] as KeyflowProcess, 5_000);
      assert.equal(killed.signal, "SIGKILL", `node ${victim} finished before the kill:\n${nodes[victim]?.stderr()}`);
      // The survivor hears its peer go silent and fails: a static cluster restarts as a whole.
      const survivor = nodes[1 - victim] as KeyflowProcess;
      const exit = await exitWithin(survivor, 10_000);
      assert.notEqual(exit.code, 0, `node ${1 - victim} should fail when its peer dies:\n${survivor.stderr()}`);
    }
    const last = start();
    const exits = await Promise.all(last.map((node) => exitWithin(node, 60_000)));
    for (const [node, exit] of exits.entries()) assert.equal(exit.code, 0, last[node]?.stderr());
    assert.match(last[0]?.stderr() ?? "", /restoring from checkpoint \d+/);
    assert.match(last[1]?.stderr() ?? "", /restoring from checkpoint \d+ \(state from node 0\)/);
    const collected = await Promise.all(
      [0, 1].map(async (node) => JSON.parse(await readFile(results(node), "utf8")) as Collected),
    );
    assertExactlyOnce(collected);
    delete process.env.KEYFLOW_VERBOSE;
    delete process.env.KEYFLOW_CHAOS_RATE;
  });
});
