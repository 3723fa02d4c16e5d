import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { keyGroupOf } from "../../../src/partition/key-groups.js";
import type { KeyedColumns, KeyedStateEntry, OperatorSnapshot } from "../../../src/state/snapshot.js";
import { CheckpointStore } from "../../../src/state/store/checkpoint-store.js";
import { metadataOf, tempDir } from "./store-fixtures.js";

const UID = "counts";
const MAX = 8;
const RANGE = { start: 0, end: MAX - 1 };
const OPERATORS = { [UID]: { parallelism: 1, maxParallelism: MAX } };

/** Numbers keyed by numbers (Float64Arrays, moved to the encoder), strings keyed by strings (arrays, cloned). */
function columns(): KeyedColumns[] {
  const n = 5_000;
  const numericKeys = new Float64Array(n);
  const numericValues = new Float64Array(n);
  const stringKeys: string[] = [];
  const stringValues: string[] = [];
  for (let i = 0; i < n; i++) {
    numericKeys[i] = i * 3;
    numericValues[i] = i % 7 === 0 ? -i / 4 : i;
    stringKeys.push(`user-${i}`);
    stringValues.push(`name ${i} ${"é".repeat(i % 5)}`);
  }
  return [
    { state: "count", maxParallelism: MAX, keys: numericKeys, values: numericValues },
    { state: "name", maxParallelism: MAX, keys: stringKeys, values: stringValues },
  ];
}

/** Entries of other states in the same key groups, read the usual way. */
function rest(): KeyedStateEntry[] {
  return Array.from({ length: 3_000 }, (_, i) => ({
    keyGroup: keyGroupOf(`other-${i}`, MAX),
    state: "flags",
    key: `other-${i}`,
    value: i % 2 === 0,
  }));
}

function entriesOf(parts: readonly KeyedColumns[]): KeyedStateEntry[] {
  return parts.flatMap((c) =>
    Array.from({ length: c.keys.length }, (_, i) => ({
      keyGroup: keyGroupOf(c.keys[i] as number | string, MAX),
      state: c.state,
      key: c.keys[i],
      value: c.values[i],
    })),
  );
}

/** A full snapshot whose columnar form is `parts` plus `rest`; with `onlyColumnar`, reading `keyed` fails the test. */
function snapshot(parts: readonly KeyedColumns[], others: KeyedStateEntry[], onlyColumnar: boolean): OperatorSnapshot {
  const all = [...entriesOf(parts), ...others];
  return {
    uid: UID,
    mode: "full",
    keyGroups: RANGE,
    keyed: onlyColumnar
      ? {
          [Symbol.iterator]: () => {
            throw new Error("the store read `keyed` although it has an encoder");
          },
        }
      : all,
    columnar: { columns: parts, rest: others },
    operatorState: {},
    release() {},
  };
}

async function restored(store: CheckpointStore, id: number): Promise<string[]> {
  const lines: string[] = [];
  for await (const e of store.restoreKeyed(id, UID, RANGE))
    lines.push(JSON.stringify([e.keyGroup, e.state, e.key, e.value]));
  return lines.sort();
}

describe("Writing state copied as columns", () => {
  it("on the encoder's thread stores exactly what the writer stores from entries", async () => {
    const { dir, remove } = await tempDir();
    try {
      const threaded = await CheckpointStore.open(`${dir}/threaded`, { blockEntries: 100 });
      const inline = await CheckpointStore.open(`${dir}/inline`, { blockEntries: 100, encoderThread: false });
      const written = await threaded.writeSnapshot(1, 0, snapshot(columns(), rest(), true));
      const inlineWritten = await inline.writeSnapshot(1, 0, snapshot(columns(), rest(), false));
      await threaded.complete(metadataOf(1, OPERATORS));
      await inline.complete(metadataOf(1, OPERATORS));
      // Blocks differ (the inline writer ends its blocks at each chunk), entries do not.
      assert.equal(written.entries, 13_000);
      assert.equal(inlineWritten.entries, 13_000);
      const expected = entriesOf(columns())
        .concat(rest())
        .map((e) => JSON.stringify([e.keyGroup, e.state, e.key, e.value]))
        .sort();
      assert.deepEqual(await restored(threaded, 1), expected);
      assert.deepEqual(await restored(inline, 1), expected);
      await threaded.close();
      await inline.close();
    } finally {
      await remove();
    }
  });

  it("fails the snapshot, naming the key group, when a copied key is outside the shard's range", async () => {
    const { dir, remove } = await tempDir();
    try {
      const store = await CheckpointStore.open(dir);
      const parts = columns();
      const half = { start: 0, end: 3 };
      const outside = parts[0] as KeyedColumns;
      const write = store.writeSnapshot(2, 0, { ...snapshot([outside], [], true), keyGroups: half });
      await assert.rejects(write, (error: Error & { code?: string }) => {
        assert.equal(error.code, "CHECKPOINT_KEY_GROUP_OUT_OF_RANGE");
        assert.match(
          error.message,
          /checkpoint 2, operator "counts": key group [4-7] is outside the snapshot's key groups 0\.\.3/,
        );
        return true;
      });
      // The store goes on: the next checkpoint writes and completes.
      await store.writeSnapshot(3, 0, snapshot(columns(), rest(), true));
      await store.complete(metadataOf(3, OPERATORS));
      assert.equal((await restored(store, 3)).length, 13_000);
      await store.close();
    } finally {
      await remove();
    }
  });
});
