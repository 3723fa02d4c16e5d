import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { collectSink, defineJob, SeededRandom } from "@keyflow/functions-sdk";
import { execute } from "../../src/index.js";

interface Event {
  readonly key: string;
  readonly amount: number;
}

const sums = collectSink<Event>("sums");
const job = defineJob("keyed-sum", (env) => {
  env
    .generate<Event>({
      count: 20_000,
      seed: 7,
      make: (i, random) => ({ key: `k${random.nextInt(50)}`, amount: i % 13 }),
    })
    .keyBy((e) => e.key)
    .sum("amount")
    .collect(sums);
});

/** The same sums computed by a plain loop over the same generator (reader i of p makes records i, i+p, …). */
function expectedFinalSums(parallelism: number): Map<string, number> {
  const expected = new Map<string, number>();
  for (let shard = 0; shard < parallelism; shard++) {
    const random = new SeededRandom(7 + shard);
    for (let i = shard; i < 20_000; i += parallelism) {
      const key = `k${random.nextInt(50)}`;
      expected.set(key, (expected.get(key) ?? 0) + (i % 13));
    }
  }
  return expected;
}

describe("execute on the calling thread", () => {
  for (const parallelism of [1, 2, 4]) {
    it(`computes a keyed rolling sum exactly at parallelism ${parallelism}`, async () => {
      const result = await execute(job, { parallelism });
      const records = result.get(sums);
      assert.equal(records.length, 20_000, "one rolling update per input record");
      const finals = new Map<string, number>();
      for (const record of records) finals.set(record.key, Math.max(finals.get(record.key) ?? 0, record.amount));
      assert.deepEqual(finals, expectedFinalSums(parallelism));
    });
  }
});
