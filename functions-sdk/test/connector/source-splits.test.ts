import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  collectionSource,
  generatorSource,
  type Source,
  type SourceReader,
  type SourceReaderContext,
  sensorSource,
} from "../../src/index.js";

function context(shardIndex: number, parallelism: number, restoredSplits?: unknown[]): SourceReaderContext {
  return {
    operatorName: "test",
    shardIndex,
    parallelism,
    now: () => 0,
    sleep: () => Promise.resolve(),
    restoredSplits,
  };
}

/** Polls a reader `polls` times (or to its end) with batches of `max`; returns what it emitted. */
function read<T>(reader: SourceReader<T>, max: number, polls = Number.POSITIVE_INFINITY): T[] {
  const out: T[] = [];
  const output = { collect: (value: T) => out.push(value) };
  for (let i = 0; i < polls; i++) if (reader.poll(output, max) === "end") break;
  return out;
}

/** Deals items round-robin over `parallelism` readers, as split list state is restored. */
function deal(items: unknown[], parallelism: number): unknown[][] {
  const dealt: unknown[][] = Array.from({ length: parallelism }, () => []);
  items.forEach((item, i) => dealt[i % parallelism]?.push(item));
  return dealt;
}

/**
 * Reads part of a source at `from` parallelism, snapshots every reader's splits, restores them at
 * `to` parallelism (twice more to `then`), and returns everything emitted, in no order.
 */
function readAcrossRescales<T>(source: Source<T>, steps: number[], pollsPerStep: number): T[] {
  const emitted: T[] = [];
  let splits: unknown[] | undefined;
  for (const [i, parallelism] of steps.entries()) {
    const restored = splits === undefined ? undefined : deal(splits, parallelism);
    splits = [];
    for (let shard = 0; shard < parallelism; shard++) {
      const reader = source.createReader(context(shard, parallelism, restored?.[shard]));
      const last = i === steps.length - 1;
      emitted.push(...read(reader, 7, last ? Number.POSITIVE_INFINITY : pollsPerStep));
      splits.push(...(reader.snapshotSplits?.() ?? []));
    }
  }
  return emitted;
}

describe("source splits", () => {
  it("let a generator resume exactly where each split stopped, at any parallelism (1 -> 4 -> 2)", () => {
    const source = generatorSource({ count: 500, make: (i, random) => `${i}:${random.nextInt(1000)}` });
    const all = readAcrossRescales(source, [1], 0);
    const rescaled = readAcrossRescales(source, [1, 4, 2], 5);
    assert.equal(rescaled.length, 500);
    assert.deepEqual([...rescaled].sort(), [...all].sort(), "same records, same random draws, none twice");
  });

  it("let a collection resume at each split's next item", () => {
    const items = Array.from({ length: 103 }, (_, i) => i);
    const rescaled = readAcrossRescales(collectionSource(items), [3, 1, 4], 2);
    assert.deepEqual(
      [...rescaled].sort((a, b) => a - b),
      items,
    );
  });

  it("let the sensor source resume every sensor's random walk where it stopped", () => {
    const source = sensorSource({ sensors: 6, readingsPerSensor: 40, seed: 9 });
    const key = (r: { id: string; timestamp: number; temperature: number }) =>
      `${r.id}@${r.timestamp}=${r.temperature}`;
    const all = readAcrossRescales(source, [2], 0).map(key).sort();
    const rescaled = readAcrossRescales(source, [2, 4, 1], 3).map(key).sort();
    assert.equal(all.length, 240);
    assert.deepEqual(rescaled, all);
  });

  it("end a reader that was given no splits (more readers than splits)", () => {
    const reader = generatorSource({ count: 10, make: (i) => i }).createReader(context(1, 2, []));
    assert.equal(reader.poll({ collect: () => assert.fail("no records") }, 10), "end");
    assert.deepEqual(reader.snapshotSplits?.(), []);
  });
});
