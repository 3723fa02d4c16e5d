import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { SeededRandom } from "@keyflow/functions-sdk";
import { execute } from "../../src/index.js";
import { exitWithin, type KeyflowProcess, killAll, spawnKeyflow } from "../cli/keyflow-process.js";
import { expected } from "../fixtures/functions-chaos-job.js";
import { type NatsServerHandle, startNatsServer } from "../helpers/nats-server.js";
import type { Count } from "./function-types.js";
import type { ScenarioResults } from "./scenario-results.js";

const JOB = fileURLToPath(new URL("../fixtures/functions-chaos-job.js", import.meta.url));

const sorted = (values: readonly unknown[]) => values.map((v) => JSON.stringify(v)).sort();

/**
 * Every sink's records equal the ones computed by hand (which the failure-free run gives too):
 * one counter egress value per add, none twice, each key's last one its exact final count; every
 * rally, countdown, fan-out sum and ring exactly once.
 */
function assertExact(get: ScenarioResults): void {
  const truth = expected();
  const counts = get("counts") as Count[];
  const seen = new Set<string>();
  const last = new Map<string, number>();
  for (const c of counts) {
    const id = `${c.id}=${c.count}`;
    assert.equal(seen.has(id), false, `counter egress ${id} came twice`);
    seen.add(id);
    last.set(c.id, Math.max(last.get(c.id) ?? 0, c.count));
  }
  const byId = (m: Map<string, number>) => new Map([...m].sort(([a], [b]) => a.localeCompare(b)));
  assert.deepEqual(byId(last), byId(truth.finalCounts), "every counter's final value");
  assert.equal(counts.length, truth.countRecords, "one counter egress value per add");
  assert.deepEqual(sorted(get("rallies")), sorted(truth.rallies), "ping-pong rallies");
  assert.deepEqual(sorted(get("countdowns")), sorted(truth.countdowns), "countdowns (self-messages)");
  assert.deepEqual(sorted(get("totals")), sorted(truth.totals), "fan-out sums");
  assert.deepEqual(sorted(get("rings")), sorted(truth.rings), "delayed messages rang once, cancelled ones never");
}

interface JournalLine {
  readonly sink: string;
  readonly transaction?: string;
  readonly records: unknown[];
}

/**
 * The job's egress over every process that ran: the nodes' results journals (each batch written
 * as it committed, so a SIGKILLed node's commits stay), keeping one batch per transaction id (a
 * restored run commits again what its checkpoint pre-committed).
 */
async function readJournals(files: readonly string[]): Promise<ScenarioResults> {
  const bySink = new Map<string, unknown[]>();
  const transactions = new Set<string>();
  for (const file of files) {
    if (!existsSync(file)) continue;
    const lines = (await readFile(file, "utf8")).split("\n").filter((l) => l !== "");
    for (const text of lines) {
      const line = JSON.parse(text) as JournalLine;
      if (line.transaction !== undefined) {
        if (transactions.has(line.transaction)) continue;
        transactions.add(line.transaction);
      }
      const list = bySink.get(line.sink) ?? [];
      for (const record of line.records) list.push(record);
      bySink.set(line.sink, list);
    }
  }
  return (sink) => bySink.get(sink) ?? [];
}

async function until(condition: () => boolean, ms: number, what: string, stderr: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms:\n${stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("exactly-once per-key functions on a static cluster of keyflow node processes killed with SIGKILL", () => {
  let server: NatsServerHandle;
  let dir: string;
  before(async () => {
    server = await startNatsServer({ jetstream: false });
    dir = await mkdtemp(join(tmpdir(), "kf-functions-cluster-sigkill-"));
  });
  after(async () => {
    await killAll();
    await server?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it("the failure-free run gives the results computed by hand", async () => {
    const result = await execute(JOB, { parallelism: 2, workers: 0 });
    assertExact((sink) => result.collected.get(sink) ?? []);
  });

  it("cycles and delayed messages in flight at each kill (node 1, then node 0): egress and counters equal the failure-free run", async () => {
    const state = (node: number) => join(dir, `state-${node}`);
    const journal = (run: number, node: number) => join(dir, `journal-${run}-${node}.ndjson`);
    // Children inherit these: completed checkpoints are logged, and the generator is slow
    // enough (4 s a run) that both kills land mid-run.
    process.env.KEYFLOW_VERBOSE = "1";
    process.env.KEYFLOW_FUNCTIONS_RATE = "1500";
    const start = (run: number): KeyflowProcess[] =>
      [0, 1].map((node) =>
        spawnKeyflow([
          "node",
          ...["--nats", server.url, "--job", JOB, "--node", String(node), "--nodes", "2", "-p", "2"],
          ...["--job-id", "functions-sigkill", "--state-dir", state(node), "--checkpoint-interval", "50"],
          ...["--peer-timeout", "1000", "--results-journal", journal(run, node)],
        ]),
      );
    const restores: string[] = [];
    try {
      const random = new SeededRandom(Number(process.env.KEYFLOW_CHAOS_SEED ?? 17));
      for (const [run, victim] of [1, 0].entries()) {
        const nodes = start(run);
        const leader = nodes[0] as KeyflowProcess;
        // Both nodes run once node 0 completed a checkpoint (of this run); kill at a seeded moment after.
        await until(() => /checkpoint \d+ complete/.test(leader.stderr()), 20_000, "a checkpoint", leader.stderr);
        await new Promise((resolve) => setTimeout(resolve, 100 + random.nextInt(600)));
        (nodes[victim] as KeyflowProcess).child.kill("SIGKILL");
        const killed = await exitWithin(nodes[victim] as KeyflowProcess, 5_000);
        assert.equal(killed.signal, "SIGKILL", `node ${victim} finished before the kill:\n${nodes[victim]?.stderr()}`);
        // The survivor hears its peer go silent and fails: a static cluster restarts as a whole.
        const survivor = nodes[1 - victim] as KeyflowProcess;
        const exit = await exitWithin(survivor, 10_000);
        assert.notEqual(exit.code, 0, `node ${1 - victim} should fail when its peer dies:\n${survivor.stderr()}`);
        if (run > 0)
          restores.push(
            ...leader
              .stderr()
              .split("\n")
              .filter((l) => l.includes("restoring from")),
          );
      }
      const last = start(2);
      const exits = await Promise.all(last.map((node) => exitWithin(node, 40_000)));
      for (const [node, exit] of exits.entries()) assert.equal(exit.code, 0, last[node]?.stderr());
      assert.match(last[1]?.stderr() ?? "", /restoring from checkpoint \d+ \(state from node 0\)/);
      restores.push(...(last[0]?.stderr() ?? "").split("\n").filter((l) => l.includes("restoring from")));
      assert.equal(restores.length, 2, `both runs after a kill restored:\n${restores.join("\n")}`);
      assert.ok(
        restores.some((l) => /restoring from checkpoint \d+ \(.*\d+ messages between functions in flight/.test(l)),
        `a restore replays messages between functions:\n${restores.join("\n")}`,
      );
      assertExact(await readJournals([0, 1, 2].flatMap((run) => [journal(run, 0), journal(run, 1)])));
    } finally {
      delete process.env.KEYFLOW_VERBOSE;
      delete process.env.KEYFLOW_FUNCTIONS_RATE;
    }
  });
});
