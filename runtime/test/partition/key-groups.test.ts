import assert from "node:assert/strict";
import { once } from "node:events";
import { describe, it } from "node:test";
import { Worker } from "node:worker_threads";
import type { Key, KeyPrimitive } from "@keyflow/functions-sdk";
import fc from "fast-check";
import { keyGroupOf, keyGroupRangeOf, shardOfKey, shardOfKeyGroup } from "../../src/partition/key-groups.js";
import type { KeyGroupsAnswer, KeyGroupsQuery } from "../fixtures/key-groups-peer.js";

const primitive: fc.Arbitrary<KeyPrimitive> = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.double(),
  fc.integer(),
  fc.boolean(),
  fc.bigInt(),
);
const anyKey: fc.Arbitrary<Key> = fc.oneof(primitive, fc.array(primitive, { maxLength: 3 }));
/** (maxParallelism, parallelism ≤ maxParallelism) */
const parallelisms = fc
  .integer({ min: 1, max: 32768 })
  .chain((maxParallelism) =>
    fc.tuple(fc.constant(maxParallelism), fc.integer({ min: 1, max: Math.min(maxParallelism, 512) })),
  );

describe("key -> key group -> shard", () => {
  it("puts every key in a key group in [0, maxParallelism)", () => {
    fc.assert(
      fc.property(anyKey, fc.integer({ min: 1, max: 32768 }), (key, maxParallelism) => {
        const group = keyGroupOf(key, maxParallelism);
        assert.ok(Number.isInteger(group) && group >= 0 && group < maxParallelism, `key group ${group}`);
      }),
      { numRuns: 2000 },
    );
  });

  it("is deterministic across calls and equal tuples", () => {
    fc.assert(
      fc.property(anyKey, parallelisms, (key, [maxParallelism, parallelism]) => {
        const copy = Array.isArray(key) ? [...key] : key;
        assert.equal(keyGroupOf(key, maxParallelism), keyGroupOf(copy as Key, maxParallelism));
        assert.equal(
          shardOfKey(key, maxParallelism, parallelism),
          shardOfKey(copy as Key, maxParallelism, parallelism),
        );
      }),
      { numRuns: 1000 },
    );
  });

  it("agrees on every shard with keyGroupRangeOf for every parallelism up to maxParallelism", () => {
    for (const maxParallelism of [1, 2, 3, 7, 10, 128, 129, 1000]) {
      for (let parallelism = 1; parallelism <= maxParallelism; parallelism++) {
        const owned = new Array<number>(maxParallelism).fill(-1);
        for (let shard = 0; shard < parallelism; shard++) {
          const { start, end } = keyGroupRangeOf(shard, maxParallelism, parallelism);
          assert.ok(start <= end, `shard ${shard} of ${parallelism} (max ${maxParallelism}) owns no key group`);
          for (let group = start; group <= end; group++) {
            assert.equal(owned[group], -1, `key group ${group} owned twice`);
            owned[group] = shard;
          }
        }
        for (let group = 0; group < maxParallelism; group++) {
          assert.equal(
            shardOfKeyGroup(group, maxParallelism, parallelism),
            owned[group],
            `key group ${group}, maxParallelism ${maxParallelism}, parallelism ${parallelism}`,
          );
        }
      }
    }
  });

  it("gives contiguous ranges that move whole key groups when parallelism changes", () => {
    fc.assert(
      fc.property(parallelisms, ([maxParallelism, parallelism]) => {
        let next = 0;
        for (let shard = 0; shard < parallelism; shard++) {
          const { start, end } = keyGroupRangeOf(shard, maxParallelism, parallelism);
          assert.equal(start, next);
          next = end + 1;
        }
        assert.equal(next, maxParallelism);
      }),
      { numRuns: 300 },
    );
  });

  it("matches Flink's KeyGroupRangeAssignment on a worked example", () => {
    // maxParallelism 128 over 3 shards: [0, 42], [43, 85], [86, 127].
    assert.deepEqual(
      [0, 1, 2].map((shard) => keyGroupRangeOf(shard, 128, 3)),
      [
        { start: 0, end: 42 },
        { start: 43, end: 85 },
        { start: 86, end: 127 },
      ],
    );
    assert.equal(shardOfKeyGroup(42, 128, 3), 0);
    assert.equal(shardOfKeyGroup(43, 128, 3), 1);
    assert.equal(shardOfKeyGroup(127, 128, 3), 2);
  });

  it("computes the same key groups and shards in a worker thread", async () => {
    const keys = fc.sample(anyKey, { numRuns: 2000, seed: 42 });
    for (const [maxParallelism, parallelism] of [
      [128, 4],
      [1000, 7],
    ] as const) {
      const query: KeyGroupsQuery = { keys, maxParallelism, parallelism };
      const worker = new Worker(new URL("../fixtures/key-groups-peer.js", import.meta.url), { workerData: query });
      const [answer] = (await once(worker, "message")) as [KeyGroupsAnswer];
      await worker.terminate();
      assert.deepEqual(
        answer.keyGroups,
        keys.map((key) => keyGroupOf(key, maxParallelism)),
      );
      assert.deepEqual(
        answer.shards,
        keys.map((key) => shardOfKey(key, maxParallelism, parallelism)),
      );
    }
  });
});
