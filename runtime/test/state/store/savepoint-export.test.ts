import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { keyGroupRangeOf } from "../../../src/partition/key-groups.js";
import type { OperatorListState } from "../../../src/state/snapshot.js";
import { CheckpointStore } from "../../../src/state/store/checkpoint-store.js";
import {
  countRecords,
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

const UID = "sessions";
const MAX = 16;

describe("Exporting a savepoint", () => {
  it("writes a self-contained full copy that opens as a store holding that one savepoint, at any parallelism", async () => {
    const source = await tempDir();
    const target = await tempDir();
    try {
      const store = await CheckpointStore.open(source.dir, { blockEntries: 8 });
      const random = seededRandom(5);
      let state: StateModel = new Map();
      for (let id = 1; id <= 4; id++) {
        const sizes = id === 1 ? { updates: 300, deletes: 0 } : { updates: 40, deletes: 20 };
        state = await writeCheckpoint(store, {
          id,
          uid: UID,
          maxParallelism: MAX,
          parallelism: 2,
          modes: id === 1 ? ["full"] : ["incremental"],
          before: state,
          changes: randomChanges(random, state, { keys: 400, ...sizes, maxParallelism: MAX, version: id }),
        });
      }
      // A second operator with list state only.
      const lists: Record<string, OperatorListState>[] = [
        { offsets: { distribution: "split", items: [10, 11] } },
        { offsets: { distribution: "split", items: [20] } },
      ];
      for (let shard = 0; shard < 2; shard++) {
        await store.writeSnapshot(
          5,
          shard,
          snapshotOf("source", "full", keyGroupRangeOf(shard, MAX, 2), [], lists[shard]),
        );
        const range = keyGroupRangeOf(shard, MAX, 2);
        await store.writeSnapshot(5, shard, snapshotOf(UID, "incremental", range, []));
      }
      await store.complete(
        metadataOf(5, {
          [UID]: { parallelism: 2, maxParallelism: MAX },
          source: { parallelism: 2, maxParallelism: MAX },
        }),
      );
      await store.exportSavepoint(5, target.dir);
      await store.close();

      const copy = await CheckpointStore.open(target.dir, { retain: 1 });
      assert.deepEqual(
        copy.completed().map((metadata) => [metadata.id, metadata.kind, metadata.jobName]),
        [[5, "savepoint", "test-job"]],
      );
      assert.deepEqual(await restoredAt(copy, 5, UID, MAX, 2), modelEntries(state));
      assert.deepEqual(await restoredAt(copy, 5, UID, MAX, 3), modelEntries(state));
      assert.deepEqual(copy.restoreOperatorState(5, "source", 0, 1), { offsets: [10, 11, 20] });
      const description = await copy.describe(5);
      assert.deepEqual(description.operators[UID].modes, ["full", "full"]);
      assert.equal(
        Object.values(description.operators[UID].keys).reduce((sum, count) => sum + count, 0),
        state.size,
      );
      assert.equal(description.bytes, description.writtenBytes, "the copy reads only what it wrote itself");
      await copy.close();
      const records = await countRecords(target.dir);
      assert.deepEqual(records.ids, [5]);
      assert.equal(records.groups, 2 * MAX, "one full record per key group of each operator, no chain");

      // Checkpoints taken from the savepoint go on in its folder; retention never drops the savepoint.
      const resumed = await CheckpointStore.open(target.dir, { retain: 1, compactionRatio: 0 });
      let next = state;
      for (let id = 6; id <= 8; id++) {
        next = await writeCheckpoint(resumed, {
          id,
          uid: UID,
          maxParallelism: MAX,
          parallelism: 3,
          modes: ["incremental"],
          before: next,
          changes: randomChanges(random, next, {
            keys: 400,
            updates: 30,
            deletes: 10,
            maxParallelism: MAX,
            version: id,
          }),
        });
      }
      assert.deepEqual(await resumed.idle(), []);
      assert.deepEqual(
        resumed.completed().map((metadata) => metadata.id),
        [8, 5],
      );
      assert.deepEqual(await restoredAt(resumed, 5, UID, MAX, 1), modelEntries(state));
      assert.deepEqual(await restoredAt(resumed, 8, UID, MAX, 1), modelEntries(next));
      await resumed.close();
    } finally {
      await source.remove();
      await target.remove();
    }
  });

  it("refuses a folder that is not empty", async () => {
    const { dir, remove } = await tempDir();
    try {
      const store = await CheckpointStore.open(join(dir, "store"));
      await store.writeSnapshot(1, 0, snapshotOf(UID, "full", { start: 0, end: MAX - 1 }, []));
      await store.complete(metadataOf(1, { [UID]: { parallelism: 1, maxParallelism: MAX } }));
      await mkdir(join(dir, "taken"));
      await writeFile(join(dir, "taken", "notes.txt"), "mine");
      await assert.rejects(store.exportSavepoint(1, join(dir, "taken")), (error) => {
        assert.equal((error as { code?: unknown }).code, "CHECKPOINT_INVALID_REQUEST");
        assert.match(String(error), /is not empty/);
        return true;
      });
      await assert.rejects(store.exportSavepoint(2, join(dir, "other")), (error) => {
        assert.equal((error as { code?: unknown }).code, "CHECKPOINT_NOT_FOUND");
        return true;
      });
      await store.close();
    } finally {
      await remove();
    }
  });
});
