import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { keyGroupOf, keyGroupRangeOf } from "../../../src/partition/key-groups.js";
import { DELETED, type KeyedStateEntry } from "../../../src/state/snapshot.js";
import { CheckpointStore } from "../../../src/state/store/checkpoint-store.js";
import {
  collect,
  countRecords,
  metadataOf,
  modelEntries,
  randomChanges,
  restoredAt,
  type StateModel,
  seededRandom,
  snapshotOf,
  sortedEntries,
  tempDir,
  writeCheckpoint,
} from "./store-fixtures.js";

const UID = "counts";
const MAX = 16;
const code = (expected: string) => (error: unknown) => (error as { code?: unknown }).code === expected;

describe("CheckpointStore", () => {
  it("restores every retained checkpoint exactly, after a full checkpoint and incremental ones with updates and deletions", async () => {
    const { dir, remove } = await tempDir();
    try {
      let store = await CheckpointStore.open(dir, { retain: 3, blockEntries: 16, compactionRatio: 100 });
      const random = seededRandom(7);
      const models = new Map<number, StateModel>();
      let state: StateModel = new Map();
      // Checkpoint 1 full; 5 full on shard 0 only (shard 1 stays incremental); the rest incremental.
      const modes: Record<number, ("full" | "incremental")[]> = { 1: ["full"], 5: ["full", "incremental"] };
      for (let id = 1; id <= 8; id++) {
        const changes =
          id === 1
            ? randomChanges(random, state, { keys: 300, updates: 400, deletes: 0, maxParallelism: MAX, version: id })
            : randomChanges(random, state, { keys: 300, updates: 40, deletes: 15, maxParallelism: MAX, version: id });
        state = await writeCheckpoint(store, {
          id,
          uid: UID,
          maxParallelism: MAX,
          parallelism: 2,
          modes: modes[id] ?? ["incremental"],
          before: state,
          changes,
        });
        models.set(id, state);
        assert.deepEqual(await store.idle(), []);
        const retained = store.completed().map((metadata) => metadata.id);
        assert.deepEqual(
          retained,
          [id, id - 1, id - 2].filter((kept) => kept >= 1),
        );
        for (const kept of retained) {
          assert.deepEqual(await restoredAt(store, kept, UID, MAX, 2), modelEntries(models.get(kept) as StateModel));
        }
      }
      assert.ok((models.get(8) as StateModel).size > 200, "the state is not trivially small");

      await store.close();
      store = await CheckpointStore.open(dir, { retain: 3 });
      assert.deepEqual(store.openDamage, []);
      assert.deepEqual(
        store.completed().map((metadata) => metadata.id),
        [8, 7, 6],
      );
      for (const kept of [8, 7, 6]) {
        assert.deepEqual(await restoredAt(store, kept, UID, MAX, 1), modelEntries(models.get(kept) as StateModel));
      }
      await store.close();
    } finally {
      await remove();
    }
  });

  it("hides a deleted key, and shows it again when a later checkpoint writes it", async () => {
    const { dir, remove } = await tempDir();
    try {
      const store = await CheckpointStore.open(dir);
      const range = { start: 0, end: MAX - 1 };
      const entry = (key: string, value: unknown): KeyedStateEntry => ({
        keyGroup: keyGroupOf(key, MAX),
        state: "count",
        key,
        value,
      });
      const operators = { [UID]: { parallelism: 1, maxParallelism: MAX } };
      await store.writeSnapshot(1, 0, snapshotOf(UID, "full", range, [entry("a", 1), entry("b", 2)]));
      await store.complete(metadataOf(1, operators));
      await store.writeSnapshot(2, 0, snapshotOf(UID, "incremental", range, [entry("a", DELETED)]));
      await store.complete(metadataOf(2, operators));
      await store.writeSnapshot(3, 0, snapshotOf(UID, "incremental", range, [entry("a", 3), entry("b", DELETED)]));
      await store.complete(metadataOf(3, operators));
      assert.deepEqual(
        sortedEntries(await collect(store.restoreKeyed(1, UID, range))),
        sortedEntries([entry("a", 1), entry("b", 2)]),
      );
      assert.deepEqual(await collect(store.restoreKeyed(2, UID, range)), [entry("b", 2)]);
      assert.deepEqual(await collect(store.restoreKeyed(3, UID, range)), [entry("a", 3)]);
      await store.close();
    } finally {
      await remove();
    }
  });

  it("never shows a checkpoint that was not completed or was aborted, and removes what it wrote", async () => {
    const { dir, remove } = await tempDir();
    try {
      let store = await CheckpointStore.open(dir);
      const random = seededRandom(3);
      const at1 = await writeCheckpoint(store, {
        id: 1,
        uid: UID,
        maxParallelism: MAX,
        parallelism: 2,
        modes: ["full"],
        before: new Map(),
        changes: randomChanges(random, new Map(), {
          keys: 100,
          updates: 100,
          deletes: 0,
          maxParallelism: MAX,
          version: 1,
        }),
      });
      // Checkpoint 2: both shards write, nobody completes it; then it is aborted.
      const changes2 = randomChanges(random, at1, {
        keys: 100,
        updates: 30,
        deletes: 10,
        maxParallelism: MAX,
        version: 2,
      });
      for (let shard = 0; shard < 2; shard++) {
        const range = keyGroupRangeOf(shard, MAX, 2);
        const mine = changes2.filter((entry) => entry.keyGroup >= range.start && entry.keyGroup <= range.end);
        await store.writeSnapshot(2, shard, snapshotOf(UID, "incremental", range, mine));
      }
      assert.equal(store.latestCompleted()?.id, 1);
      assert.deepEqual(
        store.completed().map((metadata) => metadata.id),
        [1],
      );
      await assert.rejects(collect(store.restoreKeyed(2, UID, { start: 0, end: 7 })), code("CHECKPOINT_NOT_FOUND"));
      await store.abort(2);
      await assert.rejects(
        store.writeSnapshot(2, 0, snapshotOf(UID, "incremental", keyGroupRangeOf(0, MAX, 2), [])),
        code("CHECKPOINT_ABORTED"),
      );

      // Checkpoint 3 builds on 1: nothing of the aborted 2 shows.
      const changes3 = randomChanges(random, at1, {
        keys: 100,
        updates: 20,
        deletes: 5,
        maxParallelism: MAX,
        version: 3,
      });
      const at3 = await writeCheckpoint(store, {
        id: 3,
        uid: UID,
        maxParallelism: MAX,
        parallelism: 2,
        modes: ["incremental"],
        before: at1,
        changes: changes3,
      });
      assert.deepEqual(await restoredAt(store, 3, UID, MAX, 2), modelEntries(at3));

      // Checkpoint 4: only shard 0 of 2 writes; completing it fails, and a crash (close) leaves it behind.
      const shard0 = keyGroupRangeOf(0, MAX, 2);
      await store.writeSnapshot(4, 0, snapshotOf(UID, "full", shard0, modelEntries(at3, shard0)));
      await assert.rejects(
        store.complete(metadataOf(4, { [UID]: { parallelism: 2, maxParallelism: MAX } })),
        code("CHECKPOINT_INCOMPLETE"),
      );
      await store.idle();
      await store.close();
      assert.deepEqual((await countRecords(dir)).ids, [1, 3, 4]);

      store = await CheckpointStore.open(dir);
      assert.deepEqual(
        store.completed().map((metadata) => metadata.id),
        [3, 1],
      );
      assert.deepEqual(await restoredAt(store, 3, UID, MAX, 1), modelEntries(at3));
      await store.close();
      const records = await countRecords(dir);
      assert.deepEqual(records.ids, [1, 3], "the never-completed checkpoint 4 was removed at open");
    } finally {
      await remove();
    }
  });

  it("releases the snapshot after writing it, and also when the write fails", async () => {
    const { dir, remove } = await tempDir();
    try {
      const store = await CheckpointStore.open(dir);
      const ok = snapshotOf(UID, "full", { start: 0, end: 3 }, [{ keyGroup: 2, state: "s", key: "k", value: 1 }]);
      const written = await store.writeSnapshot(1, 0, ok);
      assert.equal(written.entries, 1);
      assert.equal(written.blocks, 1);
      assert.ok(written.bytes > 0);
      assert.equal(ok.releases, 1);
      const outside = snapshotOf(UID, "full", { start: 4, end: 7 }, [{ keyGroup: 9, state: "s", key: "k", value: 1 }]);
      await assert.rejects(store.writeSnapshot(1, 1, outside), (error: unknown) => {
        assert.equal((error as { code?: unknown }).code, "CHECKPOINT_KEY_GROUP_OUT_OF_RANGE");
        assert.match(String(error), /operator "counts": key group 9 is outside the snapshot's key groups 4\.\.7/);
        return true;
      });
      assert.equal(outside.releases, 1);
      await store.close();
    } finally {
      await remove();
    }
  });
});
