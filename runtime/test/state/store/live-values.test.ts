import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { keyGroupOf } from "../../../src/partition/key-groups.js";
import type { KeyedStateEntry } from "../../../src/state/snapshot.js";
import { CheckpointStore } from "../../../src/state/store/checkpoint-store.js";
import { metadataOf, restoredAt, snapshotOf, tempDir } from "./store-fixtures.js";

const MAX = 128;

describe("the checkpoint store writing a snapshot", () => {
  it("keeps the values as they were when read, though the shard changes them in place between chunks", async () => {
    const { dir, remove } = await tempDir();
    const store = await CheckpointStore.open(dir, { chunkEntries: 10 });
    try {
      // Live objects, as a snapshot hands over the values of keys it did not copy.
      const live = Array.from({ length: 200 }, (_, i) => ({ key: `k${i}`, value: { items: [i] } }));
      // A snapshot protects keys not read yet (copy-on-write); the ones it handed over are fair game.
      const read: Array<{ items: number[] }> = [];
      function* entries(): Generator<KeyedStateEntry> {
        for (const { key, value } of live) {
          read.push(value);
          yield { keyGroup: keyGroupOf(key, MAX), state: "list", key, value };
        }
      }
      const writing = store.writeSnapshot(1, 0, snapshotOf("op", "full", { start: 0, end: MAX - 1 }, entries()));
      // The shard runs between the store's chunks and changes every value in place.
      for (let turn = 0; turn < 50; turn++) {
        await new Promise((resolve) => setImmediate(resolve));
        for (const value of read) value.items.push(-1);
      }
      await writing;
      await store.complete(metadataOf(1, { op: { parallelism: 1, maxParallelism: MAX } }));
      const restored = await restoredAt(store, 1, "op", MAX, 1);
      assert.equal(restored.length, 200);
      for (const entry of restored) {
        const i = Number(String(entry.key).slice(1));
        assert.deepEqual(entry.value, { items: [i] }, `${String(entry.key)} as it was when the store read it`);
      }
    } finally {
      await store.close();
      await remove();
    }
  });
});
