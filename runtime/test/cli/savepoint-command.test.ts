import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { JobStatus } from "../../src/index.js";
import { expected, type Total, type WindowCount } from "../fixtures/chaos-job.js";
import { exitWithin, killAll, spawnKeyflow } from "./keyflow-process.js";

const JOB = fileURLToPath(new URL("../fixtures/chaos-cli-job.js", import.meta.url));
const byKey = (a: Total, b: Total) => a.key.localeCompare(b.key);
const byWindow = (a: WindowCount, b: WindowCount) => a.key.localeCompare(b.key) || a.end - b.end;

describe("keyflow savepoint", () => {
  after(killAll);

  it("stops a running job with a savepoint exported to a folder, which a run at another parallelism resumes from", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kf-savepoint-"));
    // 60K events at 10K a second: the first run is still going when the savepoint is asked for,
    // even on a slow machine (at 15K a second, once under a full test run, the job had ended
    // before the status command came).
    process.env.KEYFLOW_CHAOS_RATE = "10000";
    // Completed checkpoints are logged too.
    process.env.KEYFLOW_VERBOSE = "1";
    try {
      const first = spawnKeyflow(["run", JOB, "--state-dir", join(dir, "a"), "--results", join(dir, "first.json")]);
      // Counted from the first completed checkpoint: starting the process and its worker threads is slow on a busy machine.
      const deadline = Date.now() + 20_000;
      while (!/checkpoint \d+ complete/.test(first.stderr()) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const status = spawnKeyflow(["status", join(dir, "a")]);
      assert.equal((await exitWithin(status, 20_000)).code, 0, status.stderr());
      const shown = JSON.parse(status.stdout()) as JobStatus;
      assert.equal(shown.job, "chaos");
      assert.equal(shown.state, "running");
      assert.equal(shown.runs, 1);
      assert.ok(["idle", "checkpointing"].includes(shown.coordinator), shown.coordinator);
      assert.ok(shown.checkpoints.completed >= 1, status.stdout());
      assert.equal(shown.latest?.kind, "checkpoint");
      const savepoint = spawnKeyflow(["savepoint", join(dir, "a"), "--stop", "--target", join(dir, "sp")]);
      assert.equal((await exitWithin(savepoint, 20_000)).code, 0, savepoint.stderr());
      assert.match(savepoint.stdout(), /savepoint \d+ complete, exported to .*sp/);
      assert.equal((await exitWithin(first, 20_000)).code, 0, first.stderr());
      assert.match(first.stderr(), /finished in .* \(stopped with savepoint \d+\)/);

      const list = spawnKeyflow(["checkpoints", join(dir, "sp")]);
      assert.equal((await exitWithin(list, 20_000)).code, 0, list.stderr());
      assert.match(list.stdout(), /^savepoint \d+ {2}\S+ {2}job "chaos"/m);
      assert.match(list.stdout(), /"totals"/, "it lists the keyed operator's state");

      const second = spawnKeyflow([
        ...["run", JOB, "--state-dir", join(dir, "b"), "--from-savepoint", join(dir, "sp")],
        ...["--parallelism", "4", "--results", join(dir, "second.json")],
      ]);
      assert.equal((await exitWithin(second, 60_000)).code, 0, second.stderr());
      const read = async (file: string) =>
        JSON.parse(await readFile(join(dir, file), "utf8")) as { totals?: Total[]; windows?: WindowCount[] };
      const [a, b] = [await read("first.json"), await read("second.json")];
      const truth = expected();
      assert.deepEqual([...(b.totals ?? [])].sort(byKey), [...truth.totals].sort(byKey));
      // Windows committed up to the savepoint by the first run, and after it by the second. The second
      // commits again what the savepoint pre-committed (it cannot know the first run did): the same
      // windows with the same counts, so the union by window is exact.
      const union = new Map<string, WindowCount>();
      for (const w of [...(a.windows ?? []), ...(b.windows ?? [])]) {
        const id = `${w.key}@${w.end}`;
        const before = union.get(id);
        if (before !== undefined)
          assert.equal(before.count, w.count, `window ${id} committed twice with different counts`);
        union.set(id, w);
      }
      assert.ok((a.windows ?? []).length > 0 && (b.windows ?? []).length > 0, "both runs fired windows");
      assert.deepEqual([...union.values()].sort(byWindow), [...truth.windows].sort(byWindow));
    } finally {
      delete process.env.KEYFLOW_CHAOS_RATE;
      delete process.env.KEYFLOW_VERBOSE;
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("says clearly when no job runs with the folder", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kf-savepoint-none-"));
    try {
      const savepoint = spawnKeyflow(["savepoint", dir]);
      assert.equal((await exitWithin(savepoint, 10_000)).code, 1);
      assert.match(
        savepoint.stderr(),
        /keyflow: no job is running with state folder .* \(nothing listens on .*control\.sock\)/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
