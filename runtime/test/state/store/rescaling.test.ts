import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { keyGroupRangeOf } from "../../../src/partition/key-groups.js";
import type { OperatorListState } from "../../../src/state/snapshot.js";
import { CheckpointStore } from "../../../src/state/store/checkpoint-store.js";
import {
  metadataOf,
  modelEntries,
  randomChanges,
  restoredAt,
  type StateModel,
  seededRandom,
  snapshotOf,
  tempDir,
  writeCheckpoint,
} from "./store-fixtures.js";

const UID = "windows";
const MAX = 32;

describe("Restoring at another parallelism", () => {
  it("gives each new shard exactly its key groups, 1 -> 4 -> 2 shards, and the union is the whole state", async () => {
    const { dir, remove } = await tempDir();
    try {
      const store = await CheckpointStore.open(dir, { blockEntries: 8 });
      const random = seededRandom(11);
      const options = (version: number, before: StateModel, updates: number, deletes: number) =>
        randomChanges(random, before, { keys: 600, updates, deletes, maxParallelism: MAX, version });
      // One shard writes checkpoints 1 (full) and 2 (incremental).
      const at1 = await writeCheckpoint(store, {
        id: 1,
        uid: UID,
        maxParallelism: MAX,
        parallelism: 1,
        modes: ["full"],
        before: new Map(),
        changes: options(1, new Map(), 500, 0),
      });
      const at2 = await writeCheckpoint(store, {
        id: 2,
        uid: UID,
        maxParallelism: MAX,
        parallelism: 1,
        modes: ["incremental"],
        before: at1,
        changes: options(2, at1, 80, 30),
      });
      // Rescaled to 4: each shard restores its range; together they hold exactly checkpoint 2.
      assert.deepEqual(await restoredAt(store, 2, UID, MAX, 4), modelEntries(at2));
      for (let shard = 0; shard < 4; shard++) {
        const range = keyGroupRangeOf(shard, MAX, 4);
        const restored = [];
        for await (const entry of store.restoreKeyed(2, UID, range)) restored.push(entry);
        assert.deepEqual(
          restored.map((entry) => entry.key).sort(),
          modelEntries(at2, range)
            .map((entry) => entry.key)
            .sort(),
        );
      }
      // Four shards write checkpoint 3 incrementally on top of what they restored.
      const at3 = await writeCheckpoint(store, {
        id: 3,
        uid: UID,
        maxParallelism: MAX,
        parallelism: 4,
        modes: ["incremental"],
        before: at2,
        changes: options(3, at2, 80, 30),
      });
      // Rescaled to 2; then two shards write checkpoint 4; then read back at 1 and at 3 shards.
      assert.deepEqual(await restoredAt(store, 3, UID, MAX, 2), modelEntries(at3));
      const at4 = await writeCheckpoint(store, {
        id: 4,
        uid: UID,
        maxParallelism: MAX,
        parallelism: 2,
        modes: ["incremental", "full"],
        before: at3,
        changes: options(4, at3, 80, 30),
      });
      assert.deepEqual(await restoredAt(store, 4, UID, MAX, 1), modelEntries(at4));
      assert.deepEqual(await restoredAt(store, 4, UID, MAX, 3), modelEntries(at4));
      await store.close();
    } finally {
      await remove();
    }
  });

  it("rejects a range outside the operator's key groups, and an operator the checkpoint does not hold", async () => {
    const { dir, remove } = await tempDir();
    try {
      const store = await CheckpointStore.open(dir);
      await store.writeSnapshot(1, 0, snapshotOf(UID, "full", { start: 0, end: MAX - 1 }, []));
      await store.complete(metadataOf(1, { [UID]: { parallelism: 1, maxParallelism: MAX } }));
      const code = (expected: string) => (error: unknown) => (error as { code?: unknown }).code === expected;
      await assert.rejects(
        store.restoreKeyed(1, UID, { start: 0, end: MAX }).next(),
        code("CHECKPOINT_KEY_GROUP_OUT_OF_RANGE"),
      );
      await assert.rejects(store.restoreKeyed(1, "gone", { start: 0, end: 3 }).next(), (error) => {
        assert.equal((error as { code?: unknown }).code, "CHECKPOINT_OPERATOR_MISSING");
        assert.match(String(error), /checkpoint 1 holds no state for operator "gone"/);
        return true;
      });
      assert.throws(() => store.restoreOperatorState(1, "gone", 0, 1), code("CHECKPOINT_OPERATOR_MISSING"));
      await store.close();
    } finally {
      await remove();
    }
  });
});

describe("Operator list state on restore", () => {
  async function threeShards(dir: string) {
    const store = await CheckpointStore.open(dir);
    const lists: Record<string, OperatorListState>[] = [
      { offsets: { distribution: "split", items: ["a0", "a1"] }, rules: { distribution: "union", items: ["r0"] } },
      { offsets: { distribution: "split", items: ["b0"] }, rules: { distribution: "union", items: ["r1", "r2"] } },
      { offsets: { distribution: "split", items: ["c0", "c1", "c2"] }, rules: { distribution: "union", items: [] } },
    ];
    for (let shard = 0; shard < 3; shard++) {
      const range = keyGroupRangeOf(shard, MAX, 3);
      await store.writeSnapshot(7, shard, snapshotOf("source", "full", range, [], lists[shard]));
    }
    await store.complete(metadataOf(7, { source: { parallelism: 3, maxParallelism: MAX } }));
    return store;
  }

  it("gives each shard its own split items back at the same parallelism, and union lists whole", async () => {
    const { dir, remove } = await tempDir();
    try {
      const store = await threeShards(dir);
      const union = ["r0", "r1", "r2"];
      assert.deepEqual(store.restoreOperatorState(7, "source", 0, 3), { offsets: ["a0", "a1"], rules: union });
      assert.deepEqual(store.restoreOperatorState(7, "source", 1, 3), { offsets: ["b0"], rules: union });
      assert.deepEqual(store.restoreOperatorState(7, "source", 2, 3), { offsets: ["c0", "c1", "c2"], rules: union });
      await store.close();
    } finally {
      await remove();
    }
  });

  it("deals split items in contiguous slices over another parallelism, each item to exactly one shard", async () => {
    const { dir, remove } = await tempDir();
    try {
      const store = await threeShards(dir);
      const offsets = (parallelism: number) =>
        Array.from(
          { length: parallelism },
          (_, shard) => store.restoreOperatorState(7, "source", shard, parallelism).offsets,
        );
      assert.deepEqual(offsets(1), [["a0", "a1", "b0", "c0", "c1", "c2"]]);
      assert.deepEqual(offsets(2), [
        ["a0", "a1", "b0"],
        ["c0", "c1", "c2"],
      ]);
      assert.deepEqual(offsets(4), [["a0"], ["a1", "b0"], ["c0"], ["c1", "c2"]]);
      assert.deepEqual(offsets(8), [[], ["a0"], ["a1"], ["b0"], [], ["c0"], ["c1"], ["c2"]]);
      for (let shard = 0; shard < 5; shard++) {
        assert.deepEqual(store.restoreOperatorState(7, "source", shard, 5).rules, ["r0", "r1", "r2"]);
      }
      await store.close();
    } finally {
      await remove();
    }
  });

  it("reports a list that one shard wrote as split and another as union", async () => {
    const { dir, remove } = await tempDir();
    try {
      const store = await CheckpointStore.open(dir);
      const lists: Record<string, OperatorListState>[] = [
        { positions: { distribution: "split", items: [1] } },
        { positions: { distribution: "union", items: [2] } },
      ];
      for (let shard = 0; shard < 2; shard++) {
        await store.writeSnapshot(
          1,
          shard,
          snapshotOf("source", "full", keyGroupRangeOf(shard, MAX, 2), [], lists[shard]),
        );
      }
      await store.complete(metadataOf(1, { source: { parallelism: 2, maxParallelism: MAX } }));
      assert.throws(
        () => store.restoreOperatorState(1, "source", 0, 2),
        (error) => {
          assert.equal((error as { code?: unknown }).code, "CHECKPOINT_DAMAGED");
          assert.match(String(error), /checkpoint 1 is damaged: operator "source": list state "positions" is "split"/);
          return true;
        },
      );
      await store.close();
    } finally {
      await remove();
    }
  });
});
