import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Collector, collectSink, defineJob, type Sink } from "@keyflow/functions-sdk";
import { execute } from "../../src/index.js";

/** A sink that keeps every record with the timestamp it arrived with, across shards. */
function timestampSink<T>(into: Array<[T, number | undefined]>): Sink<T> {
  return { createWriter: () => ({ write: (value, timestamp) => void into.push([value, timestamp]) }) };
}

describe("map, filter and flatMap", () => {
  it("transform every record in order on one shard", async () => {
    const out = collectSink<string>("out");
    const job = defineJob("stateless", (env) => {
      env
        .fromCollection([1, 2, 3, 4, 5, 6])
        .map((x) => x * 10)
        .filter((x) => x % 20 !== 0)
        .flatMap<string>((x, collector) => {
          collector.collect(`${x}a`);
          collector.collect(`${x}b`);
        })
        .collect(out);
    });
    const result = await execute(job);
    assert.deepEqual(result.get(out), ["10a", "10b", "30a", "30b", "50a", "50b"]);
  });

  it("accept rich function objects with map, filter and flatMap methods bound to the object", async () => {
    class Scale {
      constructor(private readonly factor: number) {}
      map(x: number): number {
        return x * this.factor;
      }
    }
    class AtMost {
      constructor(private readonly limit: number) {}
      filter(x: number): boolean {
        return x <= this.limit;
      }
    }
    class Repeat {
      constructor(private readonly copies: number) {}
      flatMap(x: number, collector: Collector<number>): void {
        for (let i = 0; i < this.copies; i++) collector.collect(x);
      }
    }
    const out = collectSink<number>("out");
    const job = defineJob("rich", (env) => {
      env.fromCollection([1, 2, 3, 4]).map(new Scale(3)).filter(new AtMost(6)).flatMap(new Repeat(2)).collect(out);
    });
    const result = await execute(job);
    assert.deepEqual(result.get(out), [3, 3, 6, 6]);
  });

  it("carry each record's timestamp through to the sink", async () => {
    const seen: Array<[string, number | undefined]> = [];
    const job = defineJob("timestamps", (env) => {
      env
        .generate({ count: 6, make: (i) => i, timestamp: (_value, i) => 1000 + i })
        .setParallelism(2)
        .map((x) => x * 2)
        .filter((x) => x !== 4)
        .flatMap<string>((x, collector) => collector.collect(`r${x}`))
        .sinkTo(timestampSink(seen));
    });
    await execute(job);
    assert.deepEqual(
      seen.sort((a, b) => (a[1] as number) - (b[1] as number)),
      [
        ["r0", 1000],
        ["r2", 1001],
        ["r6", 1003],
        ["r8", 1004],
        ["r10", 1005],
      ],
    );
  });

  it("leave records without a timestamp without one", async () => {
    const seen: Array<[number, number | undefined]> = [];
    const job = defineJob("no-timestamps", (env) => {
      env
        .fromCollection([1, 2])
        .map((x) => x + 1)
        .sinkTo(timestampSink(seen));
    });
    await execute(job);
    assert.deepEqual(seen, [
      [2, undefined],
      [3, undefined],
    ]);
  });

  it("process every record exactly once at any parallelism, across non-chained edges and batches", async () => {
    const out = collectSink<number>("out");
    const job = defineJob("wide", (env) => {
      env
        .generate({ count: 10_000, make: (i) => i })
        .setParallelism(3)
        .rebalance()
        .map((x) => x + 1)
        .setParallelism(2)
        .filter((x) => x % 2 === 0)
        .setParallelism(4)
        .flatMap<number>((x, collector) => {
          collector.collect(x);
          collector.collect(-x);
        })
        .setParallelism(4)
        .collect(out);
    });
    const result = await execute(job, { batchSize: 64, credit: 2 });
    const values = result.get(out).sort((a, b) => a - b);
    const expected: number[] = [];
    for (let x = 2; x <= 10_000; x += 2) expected.push(x, -x);
    assert.deepEqual(
      values,
      expected.sort((a, b) => a - b),
    );
  });
});
