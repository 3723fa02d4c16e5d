import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type Collector,
  collectSink,
  countEvictor,
  countTrigger,
  defineJob,
  deltaEvictor,
  type Evictor,
  type GlobalWindow,
  globalWindows,
  type TimeWindow,
  timeEvictor,
  tumblingEventTimeWindows,
} from "@keyflow/functions-sdk";
import { execute } from "../../src/index.js";
import { groupByWindow, type Reading, readings, sorted, source } from "./window-test-kit.js";

const data = readings(400, 4, 17);
const timestamps = (rs: readonly Reading[]): string => rs.map((r) => r.ts).join(",");

/** Runs tumbling windows of 200 with `evictor`, a process function listing what each firing saw. */
async function tumblingWith(evictor: Evictor<Reading, TimeWindow>): Promise<string[]> {
  const out = collectSink<string>("out");
  const job = defineJob("evicting", (env) => {
    source(env, data, (r) => r.ts)
      .keyBy((r) => r.key)
      .window(tumblingEventTimeWindows<Reading>(200))
      .evictor(evictor)
      .process({
        process(key, ctx, elements, collector: Collector<string>) {
          collector.collect(`${key} ${ctx.window.start}: ${timestamps(elements)}`);
        },
      })
      .collect(out);
  });
  return sorted((await execute(job, { workers: 0 })).get(out));
}

/** Runs a global window fired every third reading of a key (timestamps from the readings), with `evictor`, listing what each firing saw. */
async function everyThirdWith(items: Reading[], evictor: Evictor<Reading, GlobalWindow>): Promise<string[]> {
  const out = collectSink<string>("out");
  const job = defineJob("evicting-after", (env) => {
    source(env, items, (r) => r.ts, 1_000)
      .keyBy((r) => r.key)
      .window(globalWindows<Reading>())
      .trigger(countTrigger<Reading, GlobalWindow>(3))
      .evictor(evictor)
      .process({
        process(_key, _ctx, elements, collector: Collector<string>) {
          collector.collect(timestamps(elements));
        },
      })
      .collect(out);
  });
  return (await execute(job, { workers: 0 })).get(out);
}

const windows = [...groupByWindow(data, 200, 200).values()];
const at = (...ts: number[]): Reading[] => ts.map((t) => ({ key: "a", ts: t, v: t }));

describe("evictors", () => {
  it("a count evictor before the function keeps each window's last n readings", async () => {
    const expected = windows.map((w) => `${w.key} ${w.start}: ${timestamps(w.items.slice(-3))}`);
    assert.deepEqual(await tumblingWith(countEvictor(3)), sorted(expected));
  });

  it("a time evictor before the function keeps the readings within its span of the newest one", async () => {
    const expected = windows.map((w) => {
      const newest = Math.max(...w.items.map((r) => r.ts));
      return `${w.key} ${w.start}: ${timestamps(w.items.filter((r) => r.ts > newest - 50))}`;
    });
    assert.deepEqual(await tumblingWith(timeEvictor(50)), sorted(expected));
  });

  it("a delta evictor before the function keeps the readings close enough to the last one", async () => {
    const expected = windows.map((w) => {
      const last = w.items[w.items.length - 1] as Reading;
      return `${w.key} ${w.start}: ${timestamps(w.items.filter((r) => Math.abs(r.v - last.v) < 4))}`;
    });
    assert.deepEqual(await tumblingWith(deltaEvictor<Reading>(4, (a, b) => Math.abs(a.v - b.v))), sorted(expected));
  });

  it("a count evictor after the function leaves the last n readings for the next firing", async () => {
    // Fires at 3 and 6 readings: the first sees 1–3 and keeps 2–3; the second sees 2–6, keeps 5–6.
    assert.deepEqual(await everyThirdWith(at(1, 2, 3, 4, 5, 6, 7, 8, 9), countEvictor(2, true)), [
      "1,2,3",
      "2,3,4,5,6",
      "5,6,7,8,9",
    ]);
  });

  it("a time evictor after the function keeps the readings within its span of the newest one", async () => {
    // Keep 50 ms: after [0,10,100] only 100 stays; after [100..130] all stay; after [..,200,210,220] only 200–220.
    assert.deepEqual(await everyThirdWith(at(0, 10, 100, 110, 120, 130, 200, 210, 220), timeEvictor(50, true)), [
      "0,10,100",
      "100,110,120,130",
      "100,110,120,130,200,210,220",
    ]);
  });

  it("a custom evictor runs before and after the function", async () => {
    // Before: drop odd timestamps. After: keep only the newest reading.
    const custom: Evictor<Reading, GlobalWindow> = {
      evictBefore(elements) {
        for (let i = elements.length - 1; i >= 0; i--)
          if ((elements[i]?.timestamp ?? 0) % 2 === 1) elements.splice(i, 1);
      },
      evictAfter(elements) {
        elements.splice(0, elements.length - 1);
      },
    };
    // [2,3,4] -> 2,4 (keeps 4); [4,6,7,9] -> 4,6 (keeps 6); [6,10,11,13] -> 6,10 (keeps 10).
    assert.deepEqual(await everyThirdWith(at(2, 3, 4, 6, 7, 9, 10, 11, 13), custom), ["2,4", "4,6", "6,10"]);
  });

  it("with an evictor, reduce and aggregate run at firing time over the readings it left", async () => {
    const sums = collectSink<number>("sums");
    const counts = collectSink<number>("counts");
    const job = defineJob("evicting-reduce", (env) => {
      const keyed = source(env, data, (r) => r.ts).keyBy((r) => r.key);
      keyed
        .window(tumblingEventTimeWindows<Reading>(200))
        .evictor(countEvictor(3))
        .reduce((a, b) => ({ key: a.key, ts: a.ts, v: a.v + b.v }))
        .map((r) => r.v)
        .collect(sums);
      keyed
        .window(tumblingEventTimeWindows<Reading>(200))
        .evictor(timeEvictor(50))
        .aggregate({ createAccumulator: () => 0, add: (_r: Reading, n: number) => n + 1, getResult: (n: number) => n })
        .collect(counts);
    });
    const result = await execute(job, { workers: 0 });
    assert.deepEqual(
      sorted(result.get(sums)),
      sorted(windows.map((w) => w.items.slice(-3).reduce((s, r) => s + r.v, 0))),
    );
    assert.deepEqual(
      sorted(result.get(counts)),
      sorted(
        windows.map((w) => {
          const newest = Math.max(...w.items.map((r) => r.ts));
          return w.items.filter((r) => r.ts > newest - 50).length;
        }),
      ),
    );
  });
});
