import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type AggregateFunction,
  type Collector,
  collectSink,
  defineJob,
  eventTimeTrigger,
  type ProcessWindowFunction,
  slidingEventTimeWindows,
  type TimeWindow,
  type Trigger,
  tumblingEventTimeWindows,
} from "@keyflow/functions-sdk";
import { execute } from "../../src/index.js";
import { groupByWindow, type Reading, readings, type Stamped, sorted, source, stamped } from "./window-test-kit.js";

const data = readings(600, 5);

interface CountSum {
  readonly n: number;
  readonly sum: number;
}
const countSum: AggregateFunction<Reading, { n: number; sum: number }, CountSum> = {
  createAccumulator: () => ({ n: 0, sum: 0 }),
  add: (r, acc) => ({ n: acc.n + 1, sum: acc.sum + r.v }),
  getResult: (acc) => ({ n: acc.n, sum: acc.sum }),
  merge: (a, b) => ({ n: a.n + b.n, sum: a.sum + b.sum }),
};
const maxReading = (a: Reading, b: Reading): Reading => (b.v > a.v ? b : a);

interface Described<T> {
  readonly key: string;
  readonly start: number;
  readonly end: number;
  readonly result: T;
}
function describeWindow<T>(): ProcessWindowFunction<T, Described<T>, string, TimeWindow> {
  return {
    process(key, ctx, elements, out) {
      assert.equal(elements.length, 1, "a pre-aggregated window hands the process function one result");
      out.collect({ key, start: ctx.window.start, end: ctx.window.end, result: elements[0] as T });
    },
  };
}

// The aligned fast path takes the default trigger; an explicit event-time trigger takes the general operator.
const paths: Array<[string, () => Trigger<Reading, TimeWindow> | undefined]> = [
  ["the aligned fast path", () => undefined],
  ["the general operator", () => eventTimeTrigger<Reading, TimeWindow>()],
];

for (const [path, trigger] of paths) {
  describe(`event-time tumbling and sliding windows (${path})`, () => {
    for (const [shape, size, slide] of [
      ["tumbling", 100, 100],
      ["sliding", 100, 30],
    ] as const) {
      const assigner = () =>
        shape === "tumbling" ? tumblingEventTimeWindows<Reading>(size) : slidingEventTimeWindows<Reading>(size, slide);
      const groups = [...groupByWindow(data, size, slide).values()];

      it(`aggregate each key's ${shape} windows, emitting at the window's max timestamp`, async () => {
        const out = collectSink<Stamped<CountSum>>("out");
        const job = defineJob("aggregate", (env) => {
          const windowed = source(env, data, (r) => r.ts)
            .keyBy((r) => r.key)
            .window(assigner());
          const t = trigger();
          if (t !== undefined) windowed.trigger(t);
          stamped(windowed.aggregate(countSum)).collect(out);
        });
        const result = await execute(job, { workers: 0 });
        const expected = groups.map((g) => ({
          value: { n: g.items.length, sum: g.items.reduce((s, r) => s + r.v, 0) },
          ts: g.end - 1,
        }));
        assert.deepEqual(sorted(result.get(out)), sorted(expected));
      });

      it(`reduce each key's ${shape} windows to the reading with the largest value`, async () => {
        const out = collectSink<Stamped<Reading>>("out");
        const job = defineJob("reduce", (env) => {
          const windowed = source(env, data, (r) => r.ts)
            .keyBy((r) => r.key)
            .window(assigner());
          const t = trigger();
          if (t !== undefined) windowed.trigger(t);
          stamped(windowed.reduce(maxReading)).collect(out);
        });
        const result = await execute(job, { workers: 0 });
        // The first reading with the largest value wins: reduce keeps `a` on ties, in arrival order.
        const expected = groups.map((g) => ({ value: g.items.reduce(maxReading), ts: g.end - 1 }));
        assert.deepEqual(sorted(result.get(out)), sorted(expected));
      });

      it(`hand each ${shape} window's aggregate, or reduced value, to a process window function with the window`, async () => {
        const aggregated = collectSink<Described<CountSum>>("aggregated");
        const reduced = collectSink<Described<Reading>>("reduced");
        const job = defineJob("pre-aggregated", (env) => {
          const keyed = source(env, data, (r) => r.ts).keyBy((r) => r.key);
          const a = keyed.window(assigner());
          const r = keyed.window(assigner());
          const t = trigger();
          if (t !== undefined) {
            a.trigger(t);
            r.trigger(trigger() as Trigger<Reading, TimeWindow>);
          }
          a.aggregate(countSum, describeWindow<CountSum>()).collect(aggregated);
          r.reduce(maxReading, describeWindow<Reading>()).collect(reduced);
        });
        const result = await execute(job, { workers: 0 });
        assert.deepEqual(
          sorted(result.get(aggregated)),
          sorted(
            groups.map((g) => ({
              key: g.key,
              start: g.start,
              end: g.end,
              result: { n: g.items.length, sum: g.items.reduce((s, r) => s + r.v, 0) },
            })),
          ),
        );
        assert.deepEqual(
          sorted(result.get(reduced)),
          sorted(groups.map((g) => ({ key: g.key, start: g.start, end: g.end, result: g.items.reduce(maxReading) }))),
        );
      });
    }
  });
}

describe("process window functions over event-time windows", () => {
  it("get every reading of the window in arrival order", async () => {
    const out = collectSink<Stamped<string>>("out");
    const job = defineJob("process", (env) => {
      stamped(
        source(env, data, (r) => r.ts)
          .keyBy((r) => r.key)
          .window(slidingEventTimeWindows<Reading>(100, 50))
          .process({
            process(key, ctx, elements, collector: Collector<string>) {
              collector.collect(`${key} ${ctx.window.start} ${elements.map((r) => r.ts).join(",")}`);
            },
          }),
      ).collect(out);
    });
    const result = await execute(job, { workers: 0 });
    const expected = [...groupByWindow(data, 100, 50).values()].map((g) => ({
      value: `${g.key} ${g.start} ${g.items.map((r) => r.ts).join(",")}`,
      ts: g.end - 1,
    }));
    assert.deepEqual(sorted(result.get(out)), sorted(expected));
  });

  it("fire windows as the watermark passes them, before the watermark goes on", async () => {
    // Each key's results must reach the next operator before a watermark past the window's end.
    const out = collectSink<string>("out");
    const job = defineJob("order", (env) => {
      source(env, data, (r) => r.ts)
        .keyBy((r) => r.key)
        .window(tumblingEventTimeWindows<Reading>(100))
        .aggregate(countSum)
        .process({
          processElement(_value: CountSum, ctx, collector: Collector<string>) {
            const ts = ctx.timestamp as number;
            if (ctx.currentWatermark() >= ts)
              collector.collect(`result at ${ts} after watermark ${ctx.currentWatermark()}`);
          },
        })
        .collect(out);
    });
    const result = await execute(job, { workers: 0 });
    assert.deepEqual(result.get(out), []);
  });
});
