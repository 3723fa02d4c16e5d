import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { exitWithin, killAll, spawnKeyflow } from "./keyflow-process.js";

const JOB = fileURLToPath(new URL("../fixtures/cli-flaky-job.js", import.meta.url));

describe("keyflow run --restart", () => {
  after(killAll);

  it("refuses a strategy it does not know, naming the forms it takes", async () => {
    const run = spawnKeyflow(["run", JOB, "--state-dir", tmpdir(), "--restart", "sometimes"]);
    assert.equal((await exitWithin(run, 10_000)).code, 1);
    assert.match(run.stderr(), /unknown restart strategy "sometimes"; use none, fixed-delay:<attempts>:<delay ms>/);
  });

  it("with none, fails at the first fault; with fixed-delay, restarts from the checkpoint and every record is collected once", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kf-restart-"));
    try {
      const none = spawnKeyflow(["run", JOB, "--state-dir", join(dir, "a"), "--restart", "none"]);
      assert.equal((await exitWithin(none, 20_000)).code, 1);
      assert.match(none.stderr(), /a transient fault at 3000 \(not restarted: the restart strategy is none\)/);

      const results = join(dir, "out.json");
      const fixed = spawnKeyflow([
        ...["run", JOB, "--state-dir", join(dir, "b"), "--checkpoint-interval", "50"],
        ...["--restart", "fixed-delay:2:10", "--results", results],
      ]);
      assert.equal((await exitWithin(fixed, 30_000)).code, 0, fixed.stderr());
      assert.match(fixed.stderr(), /restarting in 10 ms from checkpoint \d+/);
      const { out } = JSON.parse(await readFile(results, "utf8")) as { out: number[] };
      assert.deepEqual(
        [...out].sort((a, b) => a - b),
        Array.from({ length: 6_000 }, (_, i) => i),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
