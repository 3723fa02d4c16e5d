import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { SeededRandom } from "@keyflow/functions-sdk";
import { expected, type Total, type WindowCount } from "../fixtures/chaos-job.js";
import { exitWithin, killAll, spawnKeyflow } from "./keyflow-process.js";

const JOB = fileURLToPath(new URL("../fixtures/chaos-cli-job.js", import.meta.url));
const byKey = (a: Total, b: Total) => a.key.localeCompare(b.key);

describe("keyflow run --state-dir after SIGKILL", () => {
  after(killAll);

  it("resumes from the latest completed checkpoint by itself: the final keyed state equals the failure-free run", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kf-sigkill-"));
    const state = join(dir, "state");
    const results = join(dir, "results.json");
    const args = ["run", JOB, "--state-dir", state, "--checkpoint-interval", "50", "--results", results];
    try {
      const random = new SeededRandom(5);
      let resumed = 0;
      for (let kill = 0; kill < 3; kill++) {
        const run = spawnKeyflow(args);
        await new Promise((resolve) => setTimeout(resolve, 500 + random.nextInt(700)));
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
      const truth = expected();
      // Totals come from keyed state restored across three kills: exactly-once state.
      assert.deepEqual([...collected.totals].sort(byKey), [...truth.totals].sort(byKey));
      // Windows committed by a killed process went with it; those of the last run are exact and not doubled.
      const truthWindows = new Map(truth.windows.map((w) => [`${w.key}@${w.end}`, w.count]));
      const seen = new Set<string>();
      for (const w of collected.windows) {
        const id = `${w.key}@${w.end}`;
        assert.equal(seen.has(id), false, `window ${id} emitted twice`);
        seen.add(id);
        assert.equal(w.count, truthWindows.get(id), `window ${id}`);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
