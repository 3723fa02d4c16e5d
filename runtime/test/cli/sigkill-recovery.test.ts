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

const JOB = fileURLToPath(new URL("../fixtures/chaos-cli-job.js", import.meta.url));

describe("keyflow run --state-dir --workers 0 after SIGKILL", () => {
  after(killAll);

  it("resumes from the latest completed checkpoint by itself: the final keyed state equals the failure-free run", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kf-sigkill-"));
    const state = join(dir, "state");
    const results = join(dir, "results.json");
    // On the main thread: sigkill-workers-recovery.test.ts kills a run on worker threads.
    const args = [
      "run",
      JOB,
      "--state-dir",
      state,
      "--workers",
      "0",
      "--checkpoint-interval",
      "50",
      "--results",
      results,
    ];
    // Completed checkpoints are logged too.
    process.env.KEYFLOW_VERBOSE = "1";
    // 4 s of events in all: three runs killed within about a second of their first checkpoint
    // cannot reach the end (at the fixture's 30,000 a second a quiet machine sometimes did).
    process.env.KEYFLOW_CHAOS_RATE = "15000";
    try {
      const random = new SeededRandom(5);
      let resumed = 0;
      for (let kill = 0; kill < 3; kill++) {
        const run = spawnKeyflow(args);
        // Kill once a checkpoint completed (a busy machine starts processes slowly), at a seeded moment after.
        const deadline = Date.now() + 20_000;
        while (!/checkpoint \d+ complete/.test(run.stderr()) && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        await new Promise((resolve) => setTimeout(resolve, 100 + random.nextInt(600)));
        if (run.stderr().includes("restoring from checkpoint")) resumed++;
        run.child.kill("SIGKILL");
        const exit = await exitWithin(run, 5_000);
        assert.equal(exit.signal, "SIGKILL", `run ${kill} was still running when killed:\n${run.stderr()}`);
      }
      const last = spawnKeyflow(args);
      const exit = await exitWithin(last, 60_000);
      assert.equal(exit.code, 0, last.stderr());
      assert.match(last.stderr(), /restoring from checkpoint \d+/, "the last run resumed from a checkpoint");
      assert.ok(resumed >= 2, "the killed runs after the first resumed too");
      const collected = JSON.parse(await readFile(results, "utf8")) as { totals: Total[]; windows: WindowCount[] };
      // Totals come from keyed state restored across three kills; windows committed by a killed
      // process went with it, those of the last run are exact and not doubled.
      assertChaosResults(collected.totals, collected.windows);
    } finally {
      delete process.env.KEYFLOW_VERBOSE;
      delete process.env.KEYFLOW_CHAOS_RATE;
      await rm(dir, { recursive: true, force: true });
    }
  });
});
