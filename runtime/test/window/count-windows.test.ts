import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type Collector,
  collectSink,
  countTrigger,
  defineJob,
  type GlobalWindow,
  globalWindows,
  purgingTrigger,
} from "@keyflow/functions-sdk";
import { execute } from "../../src/index.js";
import { type Reading, readings, type Stamped, sorted, stamped } from "./window-test-kit.js";

// No timestamps and no watermarks: count windows do not need event time.
const data = readings(400, 6, 3);

/** Each key's readings in arrival order. */
function perKey(): Map<string, Reading[]> {
  const byKey = new Map<string, Reading[]>();
  for (const r of data) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r]);
  return byKey;
}
const values = (rs: readonly Reading[]): string => rs.map((r) => r.v).join(",");

describe("count windows", () => {
  it("countWindow(n) fires every n readings of a key with exactly those n, and drops an incomplete last window", async () => {
    const out = collectSink<Stamped<Reading>>("out");
    const job = defineJob("tumbling-count", (env) => {
      stamped(
        env
          .fromCollection(data)
          .keyBy((r) => r.key)
          .countWindow(5)
          .reduce((a, b) => ({ key: a.key, ts: b.ts, v: a.v + b.v })),
      ).collect(out);
    });
    const result = await execute(job, { workers: 0 });
    const expected: Array<Stamped<Reading>> = [];
    for (const [key, rs] of perKey()) {
      for (let i = 0; i + 5 <= rs.length; i += 5) {
        const chunk = rs.slice(i, i + 5);
        const last = chunk[4] as Reading;
        // A global window ends at the end of time: its results carry MAX_SAFE_INTEGER.
        expected.push({
          value: { key, ts: last.ts, v: chunk.reduce((s, r) => s + r.v, 0) },
          ts: Number.MAX_SAFE_INTEGER,
        });
      }
    }
    assert.deepEqual(sorted(result.get(out)), sorted(expected));
  });

  it("countWindow(n, slide) fires every slide readings with the last n readings of the key", async () => {
    const out = collectSink<string>("out");
    const job = defineJob("sliding-count", (env) => {
      env
        .fromCollection(data)
        .keyBy((r) => r.key)
        .countWindow(4, 3)
        .process({
          process(key, _ctx, elements, collector: Collector<string>) {
            collector.collect(`${key}: ${values(elements)}`);
          },
        })
        .collect(out);
    });
    const result = await execute(job, { workers: 0 });
    const expected: string[] = [];
    for (const [key, rs] of perKey()) {
      for (let seen = 3; seen <= rs.length; seen += 3)
        expected.push(`${key}: ${values(rs.slice(Math.max(0, seen - 4), seen))}`);
    }
    assert.deepEqual(sorted(result.get(out)), sorted(expected));
  });

  it("a count trigger without purging fires over everything the global window gathered so far", async () => {
    const out = collectSink<string>("out");
    const job = defineJob("cumulative", (env) => {
      env
        .fromCollection(data)
        .keyBy((r) => r.key)
        .window(globalWindows<Reading>())
        .trigger(countTrigger<Reading, GlobalWindow>(4))
        .aggregate(
          {
            createAccumulator: () => ({ n: 0, sum: 0 }),
            add: (r: Reading, acc: { n: number; sum: number }) => ({ n: acc.n + 1, sum: acc.sum + r.v }),
            getResult: (acc: { n: number; sum: number }) => acc,
          },
          {
            process(key, _ctx, [acc], collector: Collector<string>) {
              collector.collect(`${key}: ${acc?.n} ${acc?.sum}`);
            },
          },
        )
        .collect(out);
    });
    const result = await execute(job, { workers: 0 });
    const expected: string[] = [];
    for (const [key, rs] of perKey()) {
      for (let n = 4; n <= rs.length; n += 4)
        expected.push(`${key}: ${n} ${rs.slice(0, n).reduce((s, r) => s + r.v, 0)}`);
    }
    assert.deepEqual(sorted(result.get(out)), sorted(expected));
  });

  it("a purging count trigger on global windows is countWindow(n)", async () => {
    const out = collectSink<string>("out");
    const job = defineJob("purging", (env) => {
      env
        .fromCollection(data)
        .keyBy((r) => r.key)
        .window(globalWindows<Reading>())
        .trigger(purgingTrigger(countTrigger<Reading, GlobalWindow>(3)))
        .process({
          process(key, _ctx, elements, collector: Collector<string>) {
            collector.collect(`${key}: ${values(elements)}`);
          },
        })
        .collect(out);
    });
    const result = await execute(job, { workers: 0 });
    const expected: string[] = [];
    for (const [key, rs] of perKey()) {
      for (let i = 0; i + 3 <= rs.length; i += 3) expected.push(`${key}: ${values(rs.slice(i, i + 3))}`);
    }
    assert.deepEqual(sorted(result.get(out)), sorted(expected));
  });

  it("global windows without a trigger never fire", async () => {
    const out = collectSink<Reading>("out");
    const job = defineJob("never", (env) => {
      env
        .fromCollection(data)
        .keyBy((r) => r.key)
        .window(globalWindows<Reading>())
        .reduce((a) => a)
        .collect(out);
    });
    const result = await execute(job, { workers: 0 });
    assert.deepEqual(result.get(out), []);
  });
});
