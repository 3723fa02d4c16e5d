import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KeyedStateEntry } from "../../../src/state/snapshot.js";
import { CheckpointStore, type CheckpointStoreOptions } from "../../../src/state/store/checkpoint-store.js";
import {
  countRecords,
  modelEntries,
  randomChanges,
  restoredAt,
  type StateModel,
  seededRandom,
  sortedEntries,
  tempDir,
  writeCheckpoint,
} from "./store-fixtures.js";

const UID = "counts";
const MAX = 8;

/** Writes checkpoints 1 (full) .. last; `modes` and `kinds` override per id. Returns the state at each. */
async function run(
  store: CheckpointStore,
  last: number,
  overrides: { full?: number[]; savepoints?: number[] } = {},
): Promise<Map<number, StateModel>> {
  const random = seededRandom(last * 31 + 5);
  const models = new Map<number, StateModel>();
  let state: StateModel = new Map();
  for (let id = 1; id <= last; id++) {
    const sizes = id === 1 ? { updates: 200, deletes: 0 } : { updates: 30, deletes: 10 };
    state = await writeCheckpoint(store, {
      id,
      uid: UID,
      maxParallelism: MAX,
      parallelism: 1,
      modes: id === 1 || overrides.full?.includes(id) ? ["full"] : ["incremental"],
      before: state,
      changes: randomChanges(random, state, { keys: 250, ...sizes, maxParallelism: MAX, version: id }),
      kind: overrides.savepoints?.includes(id) ? "savepoint" : "checkpoint",
    });
    models.set(id, state);
    assert.deepEqual(await store.idle(), []);
  }
  return models;
}

/** Runs `body` on a store in a fresh folder; `at.store` may be replaced (reopened), the last one is closed. */
async function withStore(
  options: CheckpointStoreOptions,
  body: (at: { store: CheckpointStore; dir: string }) => Promise<void>,
) {
  const { dir, remove } = await tempDir();
  try {
    const at = { store: await CheckpointStore.open(dir, options), dir };
    try {
      await body(at);
    } finally {
      await at.store.close();
    }
  } finally {
    await remove();
  }
}

const NO_COMPACTION = { compactionRatio: 1e9, maxChainLength: 1000, blockEntries: 1000 };

describe("Retention", () => {
  it("keeps the records of every checkpoint the retained ones build on, and nothing after a full checkpoint replaces them", async () => {
    await withStore({ retain: 2, ...NO_COMPACTION }, async (at) => {
      const { dir } = at;
      let store = at.store;
      const models = await run(store, 3);
      await store.close();
      let records = await countRecords(dir);
      // Retained 2 and 3 build on 1 (full) and 2: every key group record of 1..3 stays, metadata of 1 went.
      assert.deepEqual(records.ids, [1, 2, 3]);
      assert.equal(records.metadata, 2);
      assert.equal(records.manifests, 2);
      assert.equal(records.groups, 3 * MAX);

      at.store = store = await CheckpointStore.open(dir, { retain: 2, ...NO_COMPACTION });
      const random = seededRandom(99);
      const at3 = models.get(3) as StateModel;
      const changes4 = randomChanges(random, at3, {
        keys: 250,
        updates: 30,
        deletes: 10,
        maxParallelism: MAX,
        version: 4,
      });
      const at4 = await writeCheckpoint(store, {
        id: 4,
        uid: UID,
        maxParallelism: MAX,
        parallelism: 1,
        modes: ["full"],
        before: at3,
        changes: changes4,
      });
      const changes5 = randomChanges(random, at4, {
        keys: 250,
        updates: 30,
        deletes: 10,
        maxParallelism: MAX,
        version: 5,
      });
      const at5 = await writeCheckpoint(store, {
        id: 5,
        uid: UID,
        maxParallelism: MAX,
        parallelism: 1,
        modes: ["incremental"],
        before: at4,
        changes: changes5,
      });
      assert.deepEqual(await store.idle(), []);
      assert.deepEqual(await restoredAt(store, 4, UID, MAX, 1), modelEntries(at4));
      assert.deepEqual(await restoredAt(store, 5, UID, MAX, 1), modelEntries(at5));
      await store.close();

      // Retained: 4 (full) and 5. Blocks: one per key group that 4 or 5 wrote entries to (blocks hold 1000).
      records = await countRecords(dir);
      const blocks = new Set(modelEntries(at4).map((entry) => entry.keyGroup)).size + keyGroupsOf(changes5).size;
      assert.deepEqual(records.ids, [4, 5]);
      assert.deepEqual(
        { metadata: records.metadata, settled: records.settled, manifests: records.manifests, groups: records.groups },
        { metadata: 2, settled: 2, manifests: 2, groups: 2 * MAX },
      );
      assert.equal(records.blocks, blocks);
      assert.equal(records.total, 1 + 2 + 2 + 2 + 2 * MAX + blocks);
      at.store = await CheckpointStore.open(dir, { retain: 2, ...NO_COMPACTION });
    });
  });

  it("compacts chains into a base at the oldest retained checkpoint and deletes every record before it", async () => {
    await withStore({ retain: 2, compactionRatio: 0, blockEntries: 4 }, async (at) => {
      const { dir } = at;
      let store = at.store;
      const models = await run(store, 10);
      for (const id of [9, 10])
        assert.deepEqual(await restoredAt(store, id, UID, MAX, 2), modelEntries(models.get(id) as StateModel));
      const description = await store.describe(10);
      assert.equal(
        description.operators[UID].keys.count + (description.operators[UID].keys.seen ?? 0),
        models.get(10)?.size,
      );
      await store.close();
      const records = await countRecords(dir);
      assert.deepEqual(records.ids, [9, 10]);
      // Per key group: the base written at 9 and checkpoint 10's own record; 9's own record is replaced by the base.
      assert.equal(records.groups, 2 * MAX);
      assert.equal(records.metadata, 2);

      at.store = store = await CheckpointStore.open(dir, { retain: 2 });
      assert.deepEqual(await restoredAt(store, 9, UID, MAX, 1), modelEntries(models.get(9) as StateModel));
      assert.deepEqual(await restoredAt(store, 10, UID, MAX, 1), modelEntries(models.get(10) as StateModel));
    });
  });

  it("never deletes a savepoint, nor what it reads, until it is dropped", async () => {
    await withStore({ retain: 1, compactionRatio: 0, blockEntries: 4 }, async (at) => {
      const { dir } = at;
      const store = at.store;
      const models = await run(store, 6, { savepoints: [2] });
      assert.deepEqual(
        store.completed().map((metadata) => [metadata.id, metadata.kind]),
        [
          [6, "checkpoint"],
          [2, "savepoint"],
        ],
      );
      assert.deepEqual(await restoredAt(store, 2, UID, MAX, 1), modelEntries(models.get(2) as StateModel));
      assert.deepEqual(await restoredAt(store, 6, UID, MAX, 1), modelEntries(models.get(6) as StateModel));
      await assert.rejects(
        store.dropSavepoint(6),
        (error) => (error as { code?: unknown }).code === "CHECKPOINT_INVALID_REQUEST",
      );
      await store.dropSavepoint(2);
      assert.deepEqual(await store.idle(), []);
      assert.deepEqual(
        store.completed().map((metadata) => metadata.id),
        [6],
      );
      await store.close();
      assert.deepEqual((await countRecords(dir)).ids, [6]);
      at.store = await CheckpointStore.open(dir, { retain: 1 });
    });
  });

  it("lets a restore that has started finish while retention drops its checkpoint", async () => {
    await withStore({ retain: 1, compactionRatio: 0, blockEntries: 4 }, async ({ store }) => {
      const models = await run(store, 3);
      const reading = store.restoreKeyedBatches(3, UID, { start: 0, end: MAX - 1 });
      const restored: KeyedStateEntry[] = [...((await reading.next()).value ?? [])];
      const at3 = models.get(3) as StateModel;
      const random = seededRandom(1);
      await writeCheckpoint(store, {
        id: 4,
        uid: UID,
        maxParallelism: MAX,
        parallelism: 1,
        modes: ["incremental"],
        before: at3,
        changes: randomChanges(random, at3, { keys: 250, updates: 100, deletes: 50, maxParallelism: MAX, version: 4 }),
      });
      assert.deepEqual(await store.idle(), []);
      assert.deepEqual(
        store.completed().map((metadata) => metadata.id),
        [4],
      );
      for await (const batch of reading) restored.push(...batch);
      assert.deepEqual(sortedEntries(restored), modelEntries(at3));
    });
  });
});

function keyGroupsOf(entries: readonly KeyedStateEntry[]): Set<number> {
  return new Set(entries.map((entry) => entry.keyGroup));
}
