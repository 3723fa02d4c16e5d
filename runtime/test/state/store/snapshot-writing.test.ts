import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KeyedStateEntry } from "../../../src/state/snapshot.js";
import { CheckpointStore } from "../../../src/state/store/checkpoint-store.js";
import { countRecords, metadataOf, snapshotOf, tempDir } from "./store-fixtures.js";

const UID = "counts";
const RANGE = { start: 0, end: 7 };
const OPERATORS = { [UID]: { parallelism: 1, maxParallelism: 8 } };
const code = (expected: string) => (error: unknown) => (error as { code?: unknown }).code === expected;

/** Entries read lazily; `read` counts how many the store has taken so far. */
function lazyEntries(total: number) {
  const progress = { read: 0 };
  function* entries(): Generator<KeyedStateEntry> {
    for (let i = 0; i < total; i++) {
      progress.read++;
      yield { keyGroup: i % 8, state: "count", key: `k${i}`, value: i };
    }
  }
  return { progress, entries: entries() };
}

describe("Writing a snapshot", () => {
  it("lets the event loop run between chunks of about a thousand entries", async () => {
    const { dir, remove } = await tempDir();
    try {
      const store = await CheckpointStore.open(dir, { chunkEntries: 1000 });
      const { progress, entries } = lazyEntries(20_000);
      const seenByTicks: number[] = [];
      let ticking = true;
      const tick = () => {
        seenByTicks.push(progress.read);
        if (ticking) setImmediate(tick);
      };
      setImmediate(tick);
      await store.writeSnapshot(1, 0, snapshotOf(UID, "full", RANGE, entries));
      ticking = false;
      const midWrite = seenByTicks.filter((read) => read > 0 && read < 20_000);
      assert.ok(midWrite.length >= 10, `the event loop ran ${midWrite.length} times during the write`);
      for (const read of midWrite) assert.equal(read % 1000, 0, "the store stops reading only at chunk boundaries");
      await store.close();
    } finally {
      await remove();
    }
  });

  it("stops when its checkpoint is aborted, releases the snapshot, and leaves no record behind", async () => {
    const { dir, remove } = await tempDir();
    try {
      const store = await CheckpointStore.open(dir);
      const { progress, entries } = lazyEntries(1_000_000);
      const snapshot = snapshotOf(UID, "incremental", RANGE, entries);
      const writing = assert.rejects(store.writeSnapshot(5, 0, snapshot), code("CHECKPOINT_ABORTED"));
      while (progress.read < 3000) await new Promise((resolve) => setImmediate(resolve));
      await store.abort(5);
      await writing;
      assert.equal(snapshot.releases, 1);
      assert.ok(progress.read < 1_000_000, "the write stopped early");
      await store.close();
      const records = await countRecords(dir);
      assert.deepEqual(records.ids, []);
      assert.equal(records.total, 1, "only the store's format record is left");
    } finally {
      await remove();
    }
  });

  it("refuses ids that do not grow past the newest completed checkpoint, and a shard written twice", async () => {
    const { dir, remove } = await tempDir();
    try {
      const store = await CheckpointStore.open(dir);
      const empty = () => snapshotOf(UID, "full", RANGE, []);
      await store.writeSnapshot(3, 0, empty());
      await assert.rejects(store.writeSnapshot(3, 0, empty()), code("CHECKPOINT_INVALID_REQUEST"));
      await store.complete(metadataOf(3, OPERATORS));
      assert.equal(store.lastCheckpointId, 3);
      await assert.rejects(store.writeSnapshot(2, 0, empty()), code("CHECKPOINT_INVALID_REQUEST"));
      await assert.rejects(store.writeSnapshot(3, 0, empty()), code("CHECKPOINT_INVALID_REQUEST"));
      await assert.rejects(store.writeSnapshot(0, 0, empty()), code("CHECKPOINT_INVALID_REQUEST"));
      await assert.rejects(store.writeSnapshot(1.5, 0, empty()), code("CHECKPOINT_INVALID_REQUEST"));
      await assert.rejects(store.abort(3), code("CHECKPOINT_INVALID_REQUEST"));
      await store.close();
    } finally {
      await remove();
    }
  });

  it("completes only when the shards' key groups cover the operator's, naming what is missing", async () => {
    const { dir, remove } = await tempDir();
    try {
      const store = await CheckpointStore.open(dir);
      await store.writeSnapshot(1, 0, snapshotOf(UID, "full", { start: 0, end: 3 }, []));
      await store.writeSnapshot(1, 1, snapshotOf(UID, "full", { start: 5, end: 7 }, []));
      await assert.rejects(store.complete(metadataOf(1, { [UID]: { parallelism: 2, maxParallelism: 8 } })), (error) => {
        assert.equal((error as { code?: unknown }).code, "CHECKPOINT_INCOMPLETE");
        assert.match(String(error), /checkpoint 1 cannot complete: operator "counts": .*key group 4/);
        return true;
      });
      await assert.rejects(store.complete(metadataOf(1, { other: { parallelism: 1, maxParallelism: 8 } })), (error) => {
        assert.match(String(error), /operator "other" shard 0 has not written its snapshot/);
        return true;
      });
      assert.equal(store.latestCompleted(), undefined);
      await store.close();
    } finally {
      await remove();
    }
  });
});
