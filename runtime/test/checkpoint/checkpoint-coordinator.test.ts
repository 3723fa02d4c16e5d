import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CheckpointCoordinator } from "../../src/checkpoint/checkpoint-coordinator.js";
import { CheckpointFailedError, CheckpointRefusedError } from "../../src/checkpoint/errors.js";
import { MemoryCheckpointStorage } from "../../src/checkpoint/memory-checkpoint-storage.js";
import type { ShardSnapshotReport } from "../../src/checkpoint/shard-checkpointing.js";
import { SimulatedClock } from "../../src/time/clock.js";

/** A coordinator over `shards` pretend shards whose triggers and notifications are recorded. */
function setUp(options: {
  shards: number;
  intervalMs?: number;
  timeoutMs?: number;
  minPauseMs?: number;
  maxConcurrent?: number;
  /** What the shards' handling of a notification returns (default: nothing to wait for). */
  handled?: () => Promise<void> | undefined;
}) {
  const clock = new SimulatedClock(0);
  const storage = new MemoryCheckpointStorage();
  const triggered: number[] = [];
  const notified: Array<[number, boolean]> = [];
  const log: string[] = [];
  let sourcesRunning = true;
  const coordinator = new CheckpointCoordinator({
    intervalMs: 100,
    ...options,
    storage,
    clock,
    jobName: "test",
    maxParallelism: 128,
    operators: { op: { parallelism: options.shards, maxParallelism: 128, shards: options.shards } },
    firstId: 1,
    trigger: (id) => {
      if (sourcesRunning) triggered.push(id);
      return sourcesRunning;
    },
    notify: (id, completed) => {
      notified.push([id, completed]);
      return options.handled?.();
    },
    log: (line) => log.push(line),
  });
  const report = (checkpointId: number, shardIndex: number): ShardSnapshotReport => ({
    checkpointId,
    savepoint: false,
    vertexId: 0,
    shardIndex,
    snapshots: [],
  });
  return {
    clock,
    storage,
    coordinator,
    triggered,
    notified,
    log,
    report,
    stopSources: () => {
      sourcesRunning = false;
    },
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("CheckpointCoordinator", () => {
  it("completes a checkpoint once every shard reported and its metadata is stored, then tells the shards", async () => {
    const t = setUp({ shards: 2 });
    t.coordinator.start();
    t.clock.advance(100);
    assert.deepEqual(t.triggered, [1]);
    assert.equal(t.coordinator.state, "checkpointing");
    t.coordinator.onSnapshot(t.report(1, 0));
    await settle();
    assert.equal(await t.storage.latestCompleted(), undefined, "not complete with one shard missing");
    t.coordinator.onSnapshot(t.report(1, 1));
    await settle();
    assert.equal((await t.storage.latestCompleted())?.id, 1);
    assert.deepEqual(t.notified, [[1, true]]);
    assert.equal(t.coordinator.state, "idle");
  });

  it("settles a complete savepoint when it stops, though shards that stopped never answer its notification", async () => {
    const t = setUp({ shards: 1, handled: () => new Promise<void>(() => {}) });
    t.coordinator.start();
    let settled: string | undefined;
    const savepoint = t.coordinator.savepoint().then(
      (metadata) => (settled = `savepoint ${metadata.id} (${metadata.kind})`),
      (error: Error) => (settled = `failed: ${error.message}`),
    );
    t.coordinator.onSnapshot({ ...t.report(1, 0), savepoint: true });
    await settle();
    assert.equal((await t.storage.latestCompleted())?.id, 1, "its metadata is stored");
    assert.equal(settled, undefined, "it waits for the shards to handle its completion");
    await t.coordinator.stop(); // never ended before: it waited for that completion
    await savepoint;
    assert.equal(settled, "savepoint 1 (savepoint)");
  });

  it("keeps at most maxConcurrent checkpoints in flight", () => {
    const t = setUp({ shards: 1, maxConcurrent: 1 });
    t.coordinator.start();
    t.clock.advance(100);
    t.clock.advance(100);
    t.clock.advance(100);
    assert.deepEqual(t.triggered, [1], "the next waits for the first");
  });

  it("aborts a checkpoint that does not complete in time, and a later one completes", async () => {
    const t = setUp({ shards: 1, timeoutMs: 50 });
    t.coordinator.start();
    t.clock.advance(100);
    t.clock.advance(60);
    await settle();
    assert.deepEqual(t.notified, [[1, false]]);
    assert.ok(t.log.some((line) => /checkpoint 1 aborted: it did not complete within 50 ms/.test(line)));
    t.coordinator.onSnapshot(t.report(1, 0)); // too late: ignored
    t.clock.advance(40); // 200: the next interval
    assert.deepEqual(t.triggered, [1, 2]);
    t.coordinator.onSnapshot(t.report(2, 0));
    await settle();
    await settle();
    assert.equal((await t.storage.latestCompleted())?.id, 2);
  });

  it("rejects a savepoint that timed out with CHECKPOINT_FAILED, and one asked for after the sources finished with CHECKPOINT_REFUSED", async () => {
    const t = setUp({ shards: 1, timeoutMs: 50, intervalMs: 10_000 });
    t.coordinator.start();
    const timedOut = t.coordinator.savepoint();
    t.clock.advance(60);
    await assert.rejects(timedOut, (error: unknown) => {
      assert.ok(error instanceof CheckpointFailedError, String(error));
      assert.equal(error.code, "CHECKPOINT_FAILED");
      assert.equal(error.checkpointId, 1);
      assert.equal(error.message, "savepoint 1 was aborted: it did not complete within 50 ms");
      return true;
    });
    t.stopSources();
    await assert.rejects(t.coordinator.savepoint(), (error: unknown) => {
      assert.ok(error instanceof CheckpointRefusedError, String(error));
      assert.match(error.message, /^cannot take a savepoint now: a source has finished/);
      return true;
    });
  });

  it("waits the minimum pause after a completion before the next trigger", async () => {
    const t = setUp({ shards: 1, minPauseMs: 250 });
    t.coordinator.start();
    t.clock.advance(100); // checkpoint 1 at 100
    t.coordinator.onSnapshot(t.report(1, 0));
    await settle();
    await settle();
    t.clock.advance(100); // 200: only 100 ms since completion
    assert.deepEqual(t.triggered, [1]);
    t.clock.advance(150); // 350: the pause is over
    assert.deepEqual(t.triggered, [1, 2]);
  });

  it("stops triggering once a source has finished, and says so in its state", () => {
    const t = setUp({ shards: 1 });
    t.coordinator.start();
    t.stopSources();
    t.clock.advance(100);
    assert.equal(t.coordinator.state, "sourcesFinished");
    t.clock.advance(1_000);
    assert.deepEqual(t.triggered, []);
    assert.deepEqual(
      t.log.filter((line) => line.startsWith("checkpoint coordinator:")),
      ["checkpoint coordinator: idle", "checkpoint coordinator: sourcesFinished"],
    );
  });

  it("aborts a checkpoint a shard abandoned", async () => {
    const t = setUp({ shards: 2 });
    t.coordinator.start();
    t.clock.advance(100);
    t.coordinator.onAbandoned(1, "Keyed#0");
    await settle();
    assert.deepEqual(t.notified, [[1, false]]);
    assert.ok(t.log.some((line) => line === "checkpoint 1 aborted: shard Keyed#0 abandoned it"));
  });
});
