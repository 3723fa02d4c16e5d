import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { SeededRandom } from "@keyflow/functions-sdk";
import { execute, MemoryCheckpointStorage } from "../../src/index.js";
import { CheckpointStore } from "../../src/state/store/checkpoint-store.js";
import { chaosJob, EVENTS, expected, type Total, totals, type WindowCount, windows } from "../fixtures/chaos-job.js";

const byKey = (a: Total, b: Total) => a.key.localeCompare(b.key);
const byWindow = (a: WindowCount, b: WindowCount) => a.key.localeCompare(b.key) || a.end - b.end;

describe("exactly-once state under failures", () => {
  const truth = expected();

  it("the failure-free run gives the hand-computed totals and window counts", async () => {
    const result = await execute(chaosJob(new Set(), new Set()), { workers: 0 });
    assert.deepEqual([...result.get(totals)].sort(byKey), [...truth.totals].sort(byKey));
    assert.deepEqual([...result.get(windows)].sort(byWindow), [...truth.windows].sort(byWindow));
  });

  for (const seed of [1, 2, 3]) {
    it(`a run that crashes at 6 random records (seed ${seed}) ends with the same state and windows: nothing lost, nothing doubled`, async () => {
      const random = new SeededRandom(seed);
      const failAt = new Set(Array.from({ length: 6 }, () => random.nextInt(EVENTS)));
      const failed = new Set<number>();
      const restarts: string[] = [];
      const result = await execute(chaosJob(failAt, failed), {
        workers: 0,
        batchSize: 200,
        checkpoints: { intervalMs: 5, storage: new MemoryCheckpointStorage() },
        restartStrategy: { kind: "fixedDelay", attempts: 10, delayMs: 0 },
        log: (line) => {
          if (line.startsWith("job failed")) restarts.push(line);
        },
      });
      assert.deepEqual(failed, failAt, "every chosen record did crash the job once");
      assert.equal(restarts.length, failAt.size);
      assert.deepEqual([...result.get(totals)].sort(byKey), [...truth.totals].sort(byKey));
      assert.deepEqual([...result.get(windows)].sort(byWindow), [...truth.windows].sort(byWindow));
    });
  }
});

describe("exactly-once state with checkpoints in LevelDB", () => {
  it("a run that crashes at random records restores from the LevelDB store and ends with the failure-free results", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kf-eo-"));
    const store = await CheckpointStore.open(dir);
    try {
      const random = new SeededRandom(11);
      const failAt = new Set(Array.from({ length: 4 }, () => random.nextInt(EVENTS)));
      const failed = new Set<number>();
      const restored: string[] = [];
      const result = await execute(chaosJob(failAt, failed, 3), {
        workers: 0,
        batchSize: 200,
        checkpoints: { intervalMs: 10, storage: store },
        restartStrategy: { kind: "fixedDelay", attempts: 10, delayMs: 0 },
        log: (line) => {
          if (line.startsWith("restoring")) restored.push(line);
        },
      });
      assert.deepEqual(failed, failAt);
      assert.ok(restored.length > 0, "at least one restart restored a checkpoint from LevelDB");
      const truth = expected();
      assert.deepEqual([...result.get(totals)].sort(byKey), [...truth.totals].sort(byKey));
      assert.deepEqual([...result.get(windows)].sort(byWindow), [...truth.windows].sort(byWindow));
      assert.ok(store.latestCompleted() !== undefined);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
