import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { execute, type JobResult } from "@keyflow/runtime";
import {
  distributionTransformations,
  NUMBERS,
  numberAt,
  SOURCE_PARALLELISM,
  TARGET_PARALLELISM,
  type Tagged,
  tagged,
} from "../src/distribution-transformations.js";

/** The source shard that emitted a number: number i comes from reader i mod the source's parallelism. */
const producerOf = (value: number) => (Math.abs(value) - 1) % SOURCE_PARALLELISM;
const shardsOf = (tags: readonly Tagged[]) => tags.map((t) => t.shard);
const sorted = (values: readonly number[]) => [...values].sort((a, b) => a - b);

/** How many records each of `shards` got. */
function counts(tags: readonly Tagged[], shards: readonly number[]): number[] {
  return shards.map((shard) => tags.filter((t) => t.shard === shard).length);
}
function assertEven(values: readonly number[], message: string): void {
  assert.ok(Math.max(...values) - Math.min(...values) <= 1, `${message}: ${values.join(", ")}`);
}

function check(result: JobResult, count: number): void {
  const numbers = sorted(Array.from({ length: count }, (_, i) => numberAt(i)));
  const all = [0, 1, 2, 3];
  assert.equal(TARGET_PARALLELISM, all.length);
  for (const strategy of ["shuffle", "rebalance", "rescale", "global", "custom"] as const) {
    const tags = result.get(tagged[strategy]);
    assert.deepEqual(sorted(tags.map((t) => t.value)), numbers, `${strategy} delivers every number once`);
    assert.ok(
      tags.every((t) => t.strategy === strategy && all.includes(t.shard)),
      `${strategy} tags with a real shard`,
    );
  }

  const rebalance = result.get(tagged.rebalance);
  for (let producer = 0; producer < SOURCE_PARALLELISM; producer++) {
    const mine = rebalance.filter((t) => producerOf(t.value) === producer);
    assertEven(counts(mine, all), `rebalance spreads producer ${producer} round-robin over all shards`);
  }

  const rescale = result.get(tagged.rescale);
  const groups: ReadonlyArray<readonly [number, readonly number[]]> = [
    [0, [0, 1]],
    [1, [2, 3]],
  ];
  for (const [producer, group] of groups) {
    const mine = rescale.filter((t) => producerOf(t.value) === producer);
    assert.ok(
      shardsOf(mine).every((shard) => group.includes(shard)),
      `rescale keeps producer ${producer} to shards ${group}`,
    );
    assertEven(counts(mine, group), `rescale spreads producer ${producer} round-robin over its group`);
  }

  const broadcast = result.get(tagged.broadcast);
  for (const shard of all) {
    assert.deepEqual(
      sorted(broadcast.filter((t) => t.shard === shard).map((t) => t.value)),
      numbers,
      `broadcast gives shard ${shard} every number`,
    );
  }

  assert.ok(
    shardsOf(result.get(tagged.global)).every((shard) => shard === 0),
    "global sends everything to shard 0",
  );

  const custom = result.get(tagged.custom);
  assert.ok(
    custom.filter((t) => t.value < 0).every((t) => t.shard === 0),
    "the custom partitioner sends negatives to shard 0",
  );
}

describe("distribution transformations", () => {
  it("spreads 400 numbers as each strategy promises, on the calling thread", async () => {
    const result = await execute(distributionTransformations({ print: false, count: 400 }));
    check(result, 400);
    for (const strategy of ["shuffle", "rebalance", "custom"] as const) {
      const reached = new Set(shardsOf(result.get(tagged[strategy])));
      assert.equal(reached.size, TARGET_PARALLELISM, `${strategy} reaches every shard`);
    }
  });

  it("spreads the example's numbers the same way when the job module runs on worker threads", async () => {
    const module = new URL("../src/distribution-transformations.js", import.meta.url);
    check(await execute(module, { workers: 2 }), NUMBERS);
  });
});
