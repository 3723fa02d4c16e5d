import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { SeededRandom } from "@keyflow/functions-sdk";
import type { Total, WindowCount } from "../fixtures/chaos-job.js";
import { assertChaosResults } from "../helpers/chaos-results.js";
import { exitWithin, killAll, spawnKeyflow } from "./keyflow-process.js";

const JOB = fileURLToPath(new URL("../fixtures/chaos-workers-job.js", import.meta.url));

async function until(condition: () => boolean, ms: number, stderr: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`no checkpoint completed within ${ms} ms:\n${stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("keyflow run --state-dir --parallelism 2 on worker threads after SIGKILL", () => {
  after(killAll);

  it("resumes from the latest checkpoint the main thread kept: the final keyed state equals the failure-free run", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kf-sigkill-workers-"));
    const state = join(dir, "state");
    const results = join(dir, "results.json");
    const args = ["run", JOB, "--state-dir", state, "--parallelism", "2", "--checkpoint-interval", "50"];
    // The child inherits the rate: slow enough that every kill lands mid-run.
    process.env.KEYFLOW_CHAOS_RATE = "30000";
    // Completed checkpoints are logged too.
    process.env.KEYFLOW_VERBOSE = "1";
    try {
      const random = new SeededRandom(23);
      let resumed = 0;
      for (let kill = 0; kill < 2; kill++) {
        const run = spawnKeyflow(args);
        // Kill once a checkpoint completed (starting a process and its workers is slow on a busy machine), at a seeded moment after.
        await until(() => /checkpoint \d+ complete/.test(run.stderr()), 20_000, run.stderr);
        await new Promise((resolve) => setTimeout(resolve, 100 + random.nextInt(400)));
        if (/restoring from checkpoint \d+/.test(run.stderr())) resumed++;
        run.child.kill("SIGKILL");
        const exit = await exitWithin(run, 5_000);
        assert.equal(exit.signal, "SIGKILL", `run ${kill} was still running when killed:\n${run.stderr()}`);
        assert.match(run.stderr(), /running on 2 worker threads; this thread leads the checkpoints/);
      }
      const last = spawnKeyflow([...args, "--results", results]);
      const exit = await exitWithin(last, 60_000);
      assert.equal(exit.code, 0, last.stderr());
      assert.match(last.stderr(), /running on 2 worker threads/);
      assert.match(last.stderr(), /restoring from checkpoint \d+/, "the last run resumed from a checkpoint");
      assert.equal(resumed, 1, "the second killed run resumed from the first one's checkpoint");
      const collected = JSON.parse(await readFile(results, "utf8")) as { totals: Total[]; windows: WindowCount[] };
      // Totals come from keyed state restored across two kills; windows committed by a killed
      // process went with it, those of the last run are exact and not doubled.
      const windowCount = assertChaosResults(collected.totals, collected.windows);
      assert.ok(windowCount > 0, "the last run fired the windows after its checkpoint");
    } finally {
      delete process.env.KEYFLOW_CHAOS_RATE;
      delete process.env.KEYFLOW_VERBOSE;
      await rm(dir, { recursive: true, force: true });
    }
  });
});
