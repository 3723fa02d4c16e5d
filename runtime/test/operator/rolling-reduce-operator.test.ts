import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  collectSink,
  defineJob,
  type KeyedStream,
  type OperatorStream,
  type StreamEnvironment,
} from "@keyflow/functions-sdk";
import fc from "fast-check";
import { execute } from "../../src/index.js";

interface Trade {
  readonly symbol: string;
  readonly price: number;
  readonly seq: number;
}

// Two symbols interleaved; each symbol's records in seq order.
const trades: Trade[] = [
  { symbol: "A", price: 5, seq: 1 },
  { symbol: "B", price: 7, seq: 2 },
  { symbol: "A", price: 3, seq: 3 },
  { symbol: "A", price: 3, seq: 4 },
  { symbol: "B", price: 9, seq: 5 },
  { symbol: "A", price: 8, seq: 6 },
  { symbol: "B", price: 7, seq: 7 },
  { symbol: "B", price: 9, seq: 8 },
];

/** Runs a rolling aggregation at parallelism 2 and returns each key's emitted records, in emission order. */
async function rolling(
  aggregate: (keyed: KeyedStream<Trade, string>) => OperatorStream<Trade>,
): Promise<Map<string, Trade[]>> {
  const out = collectSink<Trade>("out");
  const job = defineJob("rolling", (env: StreamEnvironment) => {
    aggregate(env.fromCollection(trades).keyBy((t) => t.symbol))
      .setParallelism(2)
      .collect(out);
  });
  const result = await execute(job);
  const byKey = new Map<string, Trade[]>();
  for (const t of result.get(out)) byKey.set(t.symbol, [...(byKey.get(t.symbol) ?? []), t]);
  return byKey;
}

const t = (symbol: string, price: number, seq: number): Trade => ({ symbol, price, seq });

describe("rolling aggregations", () => {
  it("sum a field per key, keeping the other fields of the key's first record", async () => {
    const byKey = await rolling((k) => k.sum("price"));
    assert.deepEqual(byKey.get("A"), [t("A", 5, 1), t("A", 8, 1), t("A", 11, 1), t("A", 19, 1)]);
    assert.deepEqual(byKey.get("B"), [t("B", 7, 2), t("B", 16, 2), t("B", 23, 2), t("B", 32, 2)]);
  });

  it("min keeps the minimum of the field with the other fields of the key's first record, as Flink's min", async () => {
    const byKey = await rolling((k) => k.min("price"));
    assert.deepEqual(byKey.get("A"), [t("A", 5, 1), t("A", 3, 1), t("A", 3, 1), t("A", 3, 1)]);
    assert.deepEqual(byKey.get("B"), [t("B", 7, 2), t("B", 7, 2), t("B", 7, 2), t("B", 7, 2)]);
  });

  it("max keeps the maximum of the field with the other fields of the key's first record", async () => {
    const byKey = await rolling((k) => k.max("price"));
    assert.deepEqual(byKey.get("A"), [t("A", 5, 1), t("A", 5, 1), t("A", 5, 1), t("A", 8, 1)]);
    assert.deepEqual(byKey.get("B"), [t("B", 7, 2), t("B", 9, 2), t("B", 9, 2), t("B", 9, 2)]);
  });

  it("minBy returns the whole record with the smallest field, the first one on ties", async () => {
    const byKey = await rolling((k) => k.minBy("price"));
    assert.deepEqual(byKey.get("A"), [t("A", 5, 1), t("A", 3, 3), t("A", 3, 3), t("A", 3, 3)]);
    assert.deepEqual(byKey.get("B"), [t("B", 7, 2), t("B", 7, 2), t("B", 7, 2), t("B", 7, 2)]);
  });

  it("maxBy returns the whole record with the largest field, the first one on ties", async () => {
    const byKey = await rolling((k) => k.maxBy("price"));
    assert.deepEqual(byKey.get("A"), [t("A", 5, 1), t("A", 5, 1), t("A", 5, 1), t("A", 8, 6)]);
    assert.deepEqual(byKey.get("B"), [t("B", 7, 2), t("B", 9, 5), t("B", 9, 5), t("B", 9, 5)]);
  });

  it("reduce folds each record into the key's running value and emits every step", async () => {
    const byKey = await rolling((k) =>
      k.reduce((a, b) => ({ symbol: a.symbol, price: a.price * b.price, seq: b.seq })),
    );
    assert.deepEqual(byKey.get("A"), [t("A", 5, 1), t("A", 15, 3), t("A", 45, 4), t("A", 360, 6)]);
    assert.deepEqual(byKey.get("B"), [t("B", 7, 2), t("B", 63, 5), t("B", 441, 7), t("B", 3969, 8)]);
  });

  it("emit for sum, min and max of a field exactly what folding the graph's reduce function gives", async () => {
    const record = fc.record({
      k: fc.constantFrom("x", "y", "z"),
      v: fc.integer({ min: -50, max: 50 }),
      tag: fc.nat(9),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(record, { minLength: 1, maxLength: 60 }), async (records) => {
        for (const aggregation of ["sum", "min", "max"] as const) {
          const out = collectSink<(typeof records)[number]>("out");
          const job = defineJob("fold", (env) => {
            env
              .fromCollection(records)
              .keyBy((r) => r.k)
              [aggregation]("v")
              .collect(out);
          });
          const spec = job.build().nodes[1]?.spec as { reduce: (a: unknown, b: unknown) => unknown };
          const expected: unknown[] = [];
          const current = new Map<string, unknown>();
          for (const r of records) {
            const before = current.get(r.k);
            const next = before === undefined ? r : spec.reduce(before, r);
            current.set(r.k, next);
            expected.push(next);
          }
          const result = await execute(job);
          assert.deepEqual(result.get(out), expected, aggregation);
        }
      }),
      { numRuns: 40 },
    );
  });

  it("sums a stream of numbers per key without a field", async () => {
    const out = collectSink<number>("out");
    const job = defineJob("numbers", (env) => {
      env
        .fromCollection([1, 2, 3, 4, 5, 6])
        .keyBy((x) => x % 2)
        .sum()
        .collect(out);
    });
    const result = await execute(job);
    assert.deepEqual(result.get(out), [1, 2, 4, 6, 9, 12]);
  });

  it("keeps composite keys apart and equal tuples together", async () => {
    const out = collectSink<{ k: [string, number]; n: number }>("out");
    const job = defineJob("tuples", (env) => {
      env
        .fromCollection([
          { k: ["a", 1] as [string, number], n: 1 },
          { k: ["a", 2] as [string, number], n: 10 },
          { k: ["a", 1] as [string, number], n: 100 },
        ])
        .keyBy((r) => r.k)
        .sum("n")
        .setParallelism(2)
        .collect(out);
    });
    const result = await execute(job);
    assert.deepEqual(
      result
        .get(out)
        .map((r) => `${r.k.join("/")}=${r.n}`)
        .sort(),
      ["a/1=1", "a/1=101", "a/2=10"],
    );
  });

  it("fails the job with a named error when sum without a field meets a record that is not a number", async () => {
    const job = defineJob("not-numbers", (env) => {
      env
        .fromCollection<unknown>([1, "two"])
        .keyBy(() => "k")
        .sum()
        .name("Total")
        .discard();
    });
    await assert.rejects(execute(job), (error: unknown) => {
      const reason = (error as { reason?: { code: string; details: Record<string, string>; message: string } }).reason;
      assert.equal(reason?.code, "USER_FUNCTION_FAILED");
      assert.equal(reason?.details.operator, "Total");
      assert.equal(reason?.details.record, '"two"');
      assert.match(reason?.message ?? "", /needs a stream of numbers/);
      return true;
    });
  });
});
