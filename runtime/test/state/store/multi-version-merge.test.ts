import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { keyGroupOf, keyGroupRangeOf } from "../../../src/partition/key-groups.js";
import { DELETED, type KeyedStateEntry } from "../../../src/state/snapshot.js";
import { CheckpointStore, type CheckpointStoreOptions } from "../../../src/state/store/checkpoint-store.js";
import {
  modelEntries,
  modelKey,
  restoredAt,
  type StateModel,
  snapshotOf,
  tempDir,
  writeCheckpoint,
} from "./store-fixtures.js";

const UID = "merge";
const MAX = 8;

type Change = { key: number; state: "a" | "b"; value: number | null };
type Step =
  | { kind: "checkpoint"; parallelism: number; full: boolean[]; savepoint: boolean; idle: boolean; changes: Change[] }
  | { kind: "abandon"; abort: boolean; changes: Change[] }
  | { kind: "reopen" };

const change = fc.record({
  key: fc.integer({ min: 0, max: 40 }),
  state: fc.constantFrom<"a" | "b">("a", "b"),
  value: fc.option(fc.integer({ min: 0, max: 1000 }), { nil: null, freq: 4 }),
});
const changes = fc.array(change, { maxLength: 25 });
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("checkpoint" as const),
      parallelism: fc.integer({ min: 1, max: 3 }),
      full: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
      savepoint: fc.integer({ min: 0, max: 9 }).map((n) => n < 2),
      idle: fc.boolean(),
      changes,
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("abandon" as const), abort: fc.boolean(), changes }) },
  { weight: 1, arbitrary: fc.constant({ kind: "reopen" as const }) },
);
const options: fc.Arbitrary<CheckpointStoreOptions> = fc.record({
  retain: fc.integer({ min: 1, max: 3 }),
  compactionRatio: fc.constantFrom(0, 0.3, 1, 1e9),
  maxChainLength: fc.integer({ min: 2, max: 6 }),
  blockEntries: fc.integer({ min: 1, max: 8 }),
});

/** Changes as entries against the state before them: a null value deletes (only keys that exist). */
function entriesOf(list: readonly Change[], before: StateModel): KeyedStateEntry[] {
  const out = new Map<string, KeyedStateEntry>();
  for (const { key, state, value } of list) {
    const name = `user-${key}`;
    const entry = { keyGroup: keyGroupOf(name, MAX), state, key: name, value: value ?? DELETED };
    if (value === null && !before.has(modelKey(entry)) && !out.has(modelKey(entry))) continue;
    out.set(modelKey(entry), entry);
  }
  return [...out.values()];
}

describe("The multi-version merge", () => {
  it("restores every retained checkpoint as the model says, through incremental, full, abandoned and aborted checkpoints, compaction and reopening", async () => {
    await fc.assert(
      fc.asyncProperty(options, fc.array(step, { minLength: 1, maxLength: 12 }), async (storeOptions, steps) => {
        const { dir, remove } = await tempDir();
        let store = await CheckpointStore.open(dir, storeOptions);
        try {
          const models = new Map<number, StateModel>();
          const kinds = new Map<number, "checkpoint" | "savepoint">();
          let state: StateModel = new Map();
          let id = 0;
          /** Retained: the newest `retain` checkpoints and every savepoint, each restoring as its model. */
          const check = async () => {
            assert.deepEqual(await store.idle(), []);
            const ids = [...kinds.keys()].sort((a, b) => b - a);
            const checkpoints = ids.filter((kept) => kinds.get(kept) === "checkpoint").slice(0, storeOptions.retain);
            assert.deepEqual(
              store.completed().map((metadata) => metadata.id),
              ids.filter((kept) => kinds.get(kept) === "savepoint" || checkpoints.includes(kept)),
            );
            for (const metadata of store.completed()) {
              const expected = modelEntries(models.get(metadata.id) as StateModel);
              assert.deepEqual(await restoredAt(store, metadata.id, UID, MAX, 1 + (metadata.id % 3)), expected);
            }
          };
          for (const current of steps) {
            if (current.kind === "reopen") {
              await store.close();
              store = await CheckpointStore.open(dir, storeOptions);
            } else if (current.kind === "abandon") {
              // A checkpoint some shard wrote but that never completes: aborted, or left for a later open.
              id++;
              const range = keyGroupRangeOf(0, MAX, 1);
              await store.writeSnapshot(
                id,
                0,
                snapshotOf(UID, "incremental", range, entriesOf(current.changes, state)),
              );
              if (current.abort) await store.abort(id);
            } else {
              id++;
              const entries = entriesOf(current.changes, state);
              const modes = current.full.map((full) => (full ? ("full" as const) : ("incremental" as const)));
              state = await writeCheckpoint(store, {
                id,
                uid: UID,
                maxParallelism: MAX,
                parallelism: current.parallelism,
                modes: modes.slice(0, current.parallelism),
                before: state,
                changes: entries,
                kind: current.savepoint ? "savepoint" : "checkpoint",
              });
              models.set(id, state);
              kinds.set(id, current.savepoint ? "savepoint" : "checkpoint");
              // Without waiting, the next checkpoint is written and completed while retention runs.
              if (!current.idle) continue;
            }
            await check();
          }
          await check();
          const usable = await store.latestUsable();
          assert.deepEqual(usable.damage, []);
          assert.equal(usable.checkpoint?.id, store.latestCompleted()?.id);
        } finally {
          await store.close();
          await remove();
        }
      }),
      { numRuns: 40 },
    );
  });
});
