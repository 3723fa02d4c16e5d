import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { SeededRandom } from "@keyflow/functions-sdk";
import { exitWithin, killAll, spawnKeyflow } from "../cli/keyflow-process.js";
import type { Count } from "./function-types.js";
import { expectedCounts } from "./scenario-results.js";

const JOB = fileURLToPath(new URL("../fixtures/functions-scenarios-job.js", import.meta.url));
const RECORDS = 20_000;

async function until(condition: () => boolean, ms: number, stderr: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`no checkpoint completed within ${ms} ms:\n${stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("keyflow run of a functions job on worker threads after SIGKILL", () => {
  after(killAll);

  it("resumes twice from the latest checkpoint, messages in flight included: every counter ends exact", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kf-functions-sigkill-"));
    const state = join(dir, "state");
    const results = join(dir, "results.json");
    const args = ["run", JOB, "--state-dir", state, "--parallelism", "2", "--checkpoint-interval", "50"];
    // Children inherit these: slow enough that every kill lands mid-run, with relayed messages in flight.
    process.env.KEYFLOW_FUNCTIONS_RATE = "5000";
    process.env.KEYFLOW_FUNCTIONS_RECORDS = String(RECORDS);
    process.env.KEYFLOW_VERBOSE = "1";
    try {
      const random = new SeededRandom(31);
      for (let kill = 0; kill < 2; kill++) {
        const run = spawnKeyflow(args);
        await until(() => /checkpoint \d+ complete/.test(run.stderr()), 20_000, run.stderr);
        await new Promise((resolve) => setTimeout(resolve, 100 + random.nextInt(400)));
        run.child.kill("SIGKILL");
        const exit = await exitWithin(run, 5_000);
        assert.equal(exit.signal, "SIGKILL", `run ${kill} was still running when killed:\n${run.stderr()}`);
        assert.match(run.stderr(), /running on 2 worker threads/);
        if (kill === 1) assert.match(run.stderr(), /restoring from checkpoint \d+/, "the second run resumed");
      }
      const last = spawnKeyflow([...args, "--results", results]);
      const exit = await exitWithin(last, 60_000);
      assert.equal(exit.code, 0, last.stderr());
      assert.match(last.stderr(), /restoring from checkpoint \d+/, "the last run resumed from a checkpoint");
      const collected = JSON.parse(await readFile(results, "utf8")) as { counts: Count[] };
      // Egress committed by a killed process went with it; the last run's carries on from the
      // restored state, so each key's last count is its exact final state.
      const last_ = new Map<string, number>();
      for (const c of collected.counts) {
        assert.ok(c.count >= (last_.get(c.id) ?? 0), `${c.id}: ${c.count} after ${last_.get(c.id)}`);
        last_.set(c.id, c.count);
      }
      const expected = expectedCounts(2, RECORDS);
      assert.deepEqual(
        new Map([...last_].sort(([a], [b]) => a.localeCompare(b))),
        new Map([...expected].sort(([a], [b]) => a.localeCompare(b))),
      );
    } finally {
      delete process.env.KEYFLOW_FUNCTIONS_RATE;
      delete process.env.KEYFLOW_FUNCTIONS_RECORDS;
      delete process.env.KEYFLOW_VERBOSE;
      await rm(dir, { recursive: true, force: true });
    }
  });
});
