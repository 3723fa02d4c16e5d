import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { CheckpointStore, execute, type JobControl, type JobStatus } from "../../src/index.js";
import { chaosJob, expected, type Total, totals } from "../fixtures/chaos-job.js";

const byKey = (a: Total, b: Total) => a.key.localeCompare(b.key);

describe("a checkpointed job's status", () => {
  it("shows its runs, the coordinator's state, the latest checkpoint and the failure that restarted it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "keyflow-status-"));
    const store = await CheckpointStore.open(dir);
    try {
      let control: JobControl | undefined;
      const seen: JobStatus[] = [];
      let ended = false;
      // 60,000 events at 30,000 a second, one failure at event 30,000: about a second of each run.
      const run = execute(chaosJob(new Set([30_000]), new Set(), 2, 30_000), {
        workers: 0,
        batchSize: 100,
        checkpoints: { intervalMs: 50, storage: store },
        restartStrategy: { kind: "fixedDelay", attempts: 3, delayMs: 300 },
        onControl: (c) => {
          control = c;
        },
      }).finally(() => {
        ended = true;
      });
      while (!ended) {
        if (control !== undefined) seen.push(control.status());
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const result = await run;
      assert.deepEqual([...result.get(totals)].sort(byKey), [...expected().totals].sort(byKey));

      // The states it went through, each change once, in order.
      const changes = seen
        .map((s) => `${s.state}#${s.runs}`)
        .filter((step, i, all) => i === 0 || all[i - 1] !== step)
        .filter((step) => !step.startsWith("starting"));
      assert.deepEqual(changes, ["running#1", "restarting#1", "running#2"]);

      const firstRun = seen.filter((s) => s.state === "running" && s.runs === 1);
      assert.ok(
        firstRun.some((s) => s.coordinator === "checkpointing") && firstRun.some((s) => s.coordinator === "idle"),
        "the coordinator's machine is seen idle and checkpointing",
      );
      const restarting = seen.find((s) => s.state === "restarting");
      assert.equal(restarting?.coordinator, "stopped", "no coordinator runs between runs");
      assert.match(restarting?.lastFailure ?? "", /chaos at event 30000/);
      const secondRun = seen.find((s) => s.state === "running" && s.runs === 2);
      assert.equal(secondRun?.restoredFrom?.kind, "checkpoint");
      assert.equal(
        secondRun?.restoredFrom?.id,
        restarting?.latest?.id,
        "the second run restored the latest checkpoint",
      );

      const last = (control as JobControl).status();
      assert.equal(last.state, "ended");
      assert.equal(last.coordinator, "stopped");
      assert.equal(last.checkpoints.inFlight, 0);
      // Checkpoint ids rise across runs; those the store completed are the ones counted.
      const completedIds = seen.flatMap((s) => (s.latest === undefined ? [] : [s.latest.id]));
      assert.ok(last.checkpoints.completed >= 2, JSON.stringify(last));
      assert.ok(
        completedIds.every((id, i) => i === 0 || id >= (completedIds[i - 1] as number)),
        "latest never goes back",
      );
      assert.equal(last.latest?.id, store.latestCompleted()?.id);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
