import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { execute } from "../../src/index.js";
import { CheckpointStore } from "../../src/state/store/checkpoint-store.js";
import { assertScenarios } from "./scenario-results.js";

const MODULE = new URL("../fixtures/functions-scenarios-job.js", import.meta.url);
const CRASHES = 4;

describe("per-key functions with checkpoints on worker threads", () => {
  it("restart from checkpoints holding messages in flight between threads after seeded handler crashes: exact results", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kf-functions-workers-"));
    // Read by the job module in each worker thread (threads copy the environment when they start).
    process.env.KEYFLOW_FUNCTIONS_CRASHES = `${CRASHES}:11`;
    process.env.KEYFLOW_FUNCTIONS_CRASH_DIR = dir;
    process.env.KEYFLOW_FUNCTIONS_RATE = "8000";
    const store = await CheckpointStore.open(join(dir, "store"));
    const log: string[] = [];
    try {
      const result = await execute(MODULE, {
        parallelism: 2,
        workers: 2,
        checkpoints: { intervalMs: 15, timeoutMs: 10_000, storage: store },
        restartStrategy: { kind: "fixedDelay", attempts: 10, delayMs: 10 },
        log: (line) => log.push(line),
      });
      const claimed = (await readdir(dir)).filter((name) => name.startsWith("crash-"));
      assert.equal(claimed.length, CRASHES, `every seeded crash happened once:\n${log.join("\n")}`);
      const restarts = log.filter((line) => /^job failed .*seeded crash/.test(line));
      assert.equal(restarts.length, CRASHES, `a restart per crash:\n${log.join("\n")}`);
      // A crash before the first checkpoint completed starts again from the beginning (on a slow
      // machine two did, in CI); every later one restores.
      const restores = log.filter((line) => line.startsWith("restoring from checkpoint"));
      const firstComplete = log.findIndex((line) => /^checkpoint \d+ complete$/.test(line));
      const restartsAfter = log.filter(
        (line, i) => firstComplete >= 0 && i > firstComplete && /^job failed .*seeded crash/.test(line),
      ).length;
      assert.ok(restartsAfter >= 1, `a crash came after a completed checkpoint:\n${log.join("\n")}`);
      assert.equal(restores.length, restartsAfter, `restores from checkpoints:\n${log.join("\n")}`);
      assert.ok(
        restores.some((line) => /\(\d+ messages between functions in flight\)/.test(line)),
        `a restored checkpoint held messages in flight on the loop:\n${restores.join("\n")}`,
      );
      assertScenarios((sink) => result.collected.get(sink) ?? [], 2);
    } finally {
      delete process.env.KEYFLOW_FUNCTIONS_CRASHES;
      delete process.env.KEYFLOW_FUNCTIONS_CRASH_DIR;
      delete process.env.KEYFLOW_FUNCTIONS_RATE;
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
