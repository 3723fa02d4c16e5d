/**
 * Measures the checkpoint store with 1M keys of small values (not a test; run after a build):
 *   node runtime/dist/test/state/store/checkpoint-store-bench.js [keys]
 * Prints the time of a full checkpoint, of an incremental one with 1% of keys changed, of
 * restoring all keys (in batches and entry by entry), of reopening the store, and of a run of
 * incremental checkpoints with retention and compaction. Last line: one JSON object.
 */
import { keyGroupOf, keyGroupRangeOf } from "../../../src/partition/key-groups.js";
import type { KeyedStateEntry } from "../../../src/state/snapshot.js";
import { CheckpointStore } from "../../../src/state/store/checkpoint-store.js";
import { metadataOf, snapshotOf, tempDir } from "./store-fixtures.js";

const KEYS = Number(process.argv[2] ?? 1_000_000);
const MAX_PARALLELISM = 128;
const UID = "counts";
const RANGE = keyGroupRangeOf(0, MAX_PARALLELISM, 1);

const keys: string[] = [];
const keyGroups = new Uint16Array(KEYS);
for (let i = 0; i < KEYS; i++) {
  keys.push(`key-${i}`);
  keyGroups[i] = keyGroupOf(keys[i], MAX_PARALLELISM);
}
const entryOf = (i: number, version: number): KeyedStateEntry => ({
  keyGroup: keyGroups[i],
  state: "count",
  key: keys[i],
  value: { count: i + version, last: version },
});

let seed = 42;
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31;
};

async function checkpoint(
  store: CheckpointStore,
  id: number,
  mode: "full" | "incremental",
  entries: KeyedStateEntry[],
) {
  const started = performance.now();
  await store.writeSnapshot(id, 0, snapshotOf(UID, mode, RANGE, entries));
  await store.complete(metadataOf(id, { [UID]: { parallelism: 1, maxParallelism: MAX_PARALLELISM } }));
  return performance.now() - started;
}

function changed(fraction: number, version: number): KeyedStateEntry[] {
  const picked = new Set<number>();
  while (picked.size < KEYS * fraction) picked.add(Math.floor(random() * KEYS));
  return [...picked].map((i) => entryOf(i, version));
}

const { dir, remove } = await tempDir();
try {
  let store = await CheckpointStore.open(dir);
  const all = Array.from({ length: KEYS }, (_, i) => entryOf(i, 0));
  const fullMs = await checkpoint(store, 1, "full", all);
  await store.idle();
  console.log(`full checkpoint of ${KEYS} keys: ${fullMs.toFixed(0)} ms`);
  const incrementalMs = await checkpoint(store, 2, "incremental", changed(0.01, 2));
  await store.idle();
  console.log(
    `incremental checkpoint, 1% changed: ${incrementalMs.toFixed(0)} ms (${(incrementalMs / fullMs).toFixed(3)} of full)`,
  );

  await store.close();
  let started = performance.now();
  store = await CheckpointStore.open(dir);
  const reopenMs = performance.now() - started;
  console.log(`reopen: ${reopenMs.toFixed(0)} ms`);

  started = performance.now();
  let restored = 0;
  for await (const batch of store.restoreKeyedBatches(2, UID, RANGE)) restored += batch.length;
  const restoreMs = performance.now() - started;
  console.log(`restore in batches: ${restored} keys in ${restoreMs.toFixed(0)} ms`);
  started = performance.now();
  restored = 0;
  for await (const _ of store.restoreKeyed(2, UID, RANGE)) restored++;
  const restoreEntriesMs = performance.now() - started;
  console.log(`restore entry by entry: ${restored} keys in ${restoreEntriesMs.toFixed(0)} ms`);
  started = performance.now();
  const damage = await store.verify(2, "data");
  console.log(`verify (data): ${(performance.now() - started).toFixed(0)} ms, ${damage.length} damage reports`);

  // A run of incremental checkpoints: retention keeps 3, compaction rewrites a key group once its
  // changes reach its base's size (about every 100 checkpoints at 1%): report the worst and median.
  const times: number[] = [];
  const maintenance: number[] = [];
  for (let id = 3; id < 3 + 120; id++) {
    times.push(await checkpoint(store, id, "incremental", changed(0.01, id)));
    const begin = performance.now();
    await store.idle();
    maintenance.push(performance.now() - begin);
  }
  times.sort((a, b) => a - b);
  maintenance.sort((a, b) => a - b);
  const median = (values: number[]) => values[Math.floor(values.length / 2)];
  console.log(
    `120 incremental checkpoints: median ${median(times).toFixed(0)} ms, max ${times.at(-1)?.toFixed(0)} ms; ` +
      `retention+compaction after each: median ${median(maintenance).toFixed(0)} ms, max ${maintenance.at(-1)?.toFixed(0)} ms`,
  );
  const last = store.latestCompleted()?.id as number;
  started = performance.now();
  restored = 0;
  for await (const batch of store.restoreKeyedBatches(last, UID, RANGE)) restored += batch.length;
  const restoreAfterRunMs = performance.now() - started;
  console.log(`restore after the run: ${restored} keys in ${restoreAfterRunMs.toFixed(0)} ms`);
  await store.close();
  console.log(
    JSON.stringify({
      keys: KEYS,
      fullMs: Math.round(fullMs),
      incrementalMs: Math.round(incrementalMs),
      incrementalVsFull: Number((incrementalMs / fullMs).toFixed(3)),
      restoreMs: Math.round(restoreMs),
      restoreEntriesMs: Math.round(restoreEntriesMs),
      reopenMs: Math.round(reopenMs),
      restoreAfterRunMs: Math.round(restoreAfterRunMs),
    }),
  );
} finally {
  await remove();
}
