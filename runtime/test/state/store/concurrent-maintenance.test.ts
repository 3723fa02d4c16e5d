import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CheckpointStore } from "../../../src/state/store/checkpoint-store.js";
import {
  modelEntries,
  randomChanges,
  restoredAt,
  type StateModel,
  seededRandom,
  tempDir,
  writeCheckpoint,
} from "./store-fixtures.js";

const UID = "counts";
const MAX = 16;

describe("Retention and compaction running while checkpoints complete", () => {
  it("never delete what a checkpoint completed meanwhile reads", async () => {
    const { dir, remove } = await tempDir();
    try {
      // A low compaction ratio: maintenance passes rewrite key groups often and overlap the next checkpoints.
      const store = await CheckpointStore.open(dir, { retain: 2, blockEntries: 64, compactionRatio: 0.3 });
      const random = seededRandom(21);
      const models = new Map<number, StateModel>();
      let state: StateModel = new Map();
      for (let id = 1; id <= 40; id++) {
        const sizes = id === 1 ? { updates: 3000, deletes: 0 } : { updates: 600, deletes: 150 };
        state = await writeCheckpoint(store, {
          id,
          uid: UID,
          maxParallelism: MAX,
          parallelism: 2,
          modes: id === 1 || id % 5 === 0 ? ["full"] : ["incremental"],
          before: state,
          changes: randomChanges(random, state, { keys: 4000, ...sizes, maxParallelism: MAX, version: id }),
        });
        models.set(id, state);
        // No waiting for maintenance: the next checkpoint is written and completed while it runs. The two
        // newest checkpoints stay retained until the next completes: their records must all be there.
        for (const kept of [id, id - 1].filter((kept) => kept >= 1))
          assert.deepEqual(await store.verify(kept, "records"), []);
      }
      assert.deepEqual(await store.idle(), []);
      assert.deepEqual(
        store.completed().map((metadata) => metadata.id),
        [40, 39],
      );
      for (const id of [40, 39]) {
        assert.deepEqual(await store.verify(id), []);
        assert.deepEqual(await restoredAt(store, id, UID, MAX, 3), modelEntries(models.get(id) as StateModel));
      }
      await store.close();
    } finally {
      await remove();
    }
  });
});
