import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type Collector,
  collectSink,
  continuousEventTimeTrigger,
  defineJob,
  eventTimeTrigger,
  type GlobalWindow,
  globalWindows,
  purgingTrigger,
  type TimeWindow,
  type Trigger,
  tumblingEventTimeWindows,
  valueState,
} from "@keyflow/functions-sdk";
import { execute } from "../../src/index.js";
import { groupByWindow, type Reading, readings, sorted, source } from "./window-test-kit.js";

const describeFiring = {
  process(
    key: string,
    ctx: { window: TimeWindow; currentWatermark(): number },
    elements: readonly Reading[],
    out: Collector<string>,
  ) {
    const wm = ctx.currentWatermark() === Number.MAX_SAFE_INTEGER ? "end" : ctx.currentWatermark();
    out.collect(`${key} ${ctx.window.start}@${wm}: ${elements.map((r) => r.ts).join(",")}`);
  },
};

describe("triggers", () => {
  it("a continuous event-time trigger fires every interval of event time while the window is open, and at its end", async () => {
    // Watermark = timestamp − 1 after each reading. Window [0,100): the first reading (5) sets the
    // first early firing at 30; each early firing sets the next (60, 90), never past 99. Window
    // [100,200): 130 sets 150; the final watermark fires 150, then the end (199): one firing stands
    // for the intervals the watermark jumped over (Flink would fire the same result at 180 too).
    const items: Reading[] = [5, 20, 35, 50, 70, 95, 130].map((ts) => ({ key: "a", ts, v: 0 }));
    const out = collectSink<string>("out");
    const job = defineJob("continuous", (env) => {
      source(env, items, (r) => r.ts, 0)
        .keyBy((r) => r.key)
        .window(tumblingEventTimeWindows<Reading>(100))
        .trigger(continuousEventTimeTrigger<Reading, TimeWindow>(30))
        .process(describeFiring)
        .collect(out);
    });
    const result = await execute(job, { workers: 0 });
    assert.deepEqual(result.get(out), [
      "a 0@34: 5,20,35",
      "a 0@69: 5,20,35,50,70",
      "a 0@94: 5,20,35,50,70,95",
      "a 0@129: 5,20,35,50,70,95",
      "a 100@end: 130",
      "a 100@end: 130",
    ]);
  });

  it("a continuous event-time trigger gives a global window running results, and one last firing at the end of input", async () => {
    // First reading 5: early firings every 100 from 100. The watermark jumps from 129 to 259 past
    // 200 only (one firing, the next at 300), and from 259 to 399 past 300 (the next at 400). The
    // final watermark fires 400, and then the window's end, the end of time, instead of every 100.
    const items: Reading[] = [5, 50, 120, 130, 260, 400].map((ts) => ({ key: "a", ts, v: 0 }));
    const out = collectSink<string>("out");
    const job = defineJob("continuous-global", (env) => {
      source(env, items, (r) => r.ts, 0)
        .keyBy((r) => r.key)
        .window(globalWindows<Reading>())
        .trigger(continuousEventTimeTrigger<Reading, GlobalWindow>(100))
        .process({
          process(key, ctx, elements, collector: Collector<string>) {
            const wm = ctx.currentWatermark() === Number.MAX_SAFE_INTEGER ? "end" : ctx.currentWatermark();
            collector.collect(`${key}@${wm}: ${elements.map((r) => r.ts).join(",")}`);
          },
        })
        .collect(out);
    });
    const result = await execute(job, { workers: 0 });
    assert.deepEqual(result.get(out), [
      "a@119: 5,50,120",
      "a@259: 5,50,120,130,260",
      "a@399: 5,50,120,130,260,400",
      "a@end: 5,50,120,130,260,400",
      "a@end: 5,50,120,130,260,400",
    ]);
  });

  it("a custom trigger fires early on the first reading of 10 or more, once per window, then at the window's end", async () => {
    const data = readings(400, 3, 5).map((r, i) => ({ ...r, v: (i * 7) % 12 }));
    const EARLY = valueState<boolean>();
    const earlyOnPeak: Trigger<Reading, TimeWindow> = {
      onElement(reading, _ts, window, ctx) {
        ctx.registerEventTimeTimer(window.maxTimestamp());
        const fired = ctx.state("early", EARLY);
        if (reading.v >= 10 && fired.value() !== true) {
          fired.update(true);
          return "fire";
        }
        return "continue";
      },
      onEventTime: (time, window) => (time === window.maxTimestamp() ? "fire" : "continue"),
      onProcessingTime: () => "continue",
      clear(window, ctx) {
        ctx.deleteEventTimeTimer(window.maxTimestamp());
        ctx.state("early", EARLY).clear();
      },
    };
    const out = collectSink<string>("out");
    const job = defineJob("early", (env) => {
      source(env, data, (r) => r.ts)
        .keyBy((r) => r.key)
        .window(tumblingEventTimeWindows<Reading>(200))
        .trigger(earlyOnPeak)
        .process({
          process(key, ctx, elements, collector: Collector<string>) {
            collector.collect(`${key} ${ctx.window.start}: ${elements.map((r) => r.v).join(",")}`);
          },
        })
        .collect(out);
    });
    const result = await execute(job, { workers: 0 });
    const expected: string[] = [];
    for (const g of groupByWindow(data, 200, 200).values()) {
      const peak = g.items.findIndex((r) => r.v >= 10);
      if (peak >= 0)
        expected.push(
          `${g.key} ${g.start}: ${g.items
            .slice(0, peak + 1)
            .map((r) => r.v)
            .join(",")}`,
        );
      expected.push(`${g.key} ${g.start}: ${g.items.map((r) => r.v).join(",")}`);
    }
    assert.ok(expected.length > groupByWindow(data, 200, 200).size, "some windows fire early");
    assert.deepEqual(sorted(result.get(out)), sorted(expected));
  });

  it("a purging trigger makes each firing cover only what came since the last one", async () => {
    // Allowed lateness 50: 30 comes after window [0,100) fired (watermark 119) but within its
    // lateness, so the event-time trigger fires again at once, and purging left only 30 in it.
    const items: Reading[] = [10, 20, 120, 30].map((ts) => ({ key: "a", ts, v: 0 }));
    const out = collectSink<string>("out");
    const job = defineJob("purging", (env) => {
      source(env, items, (r) => r.ts, 0)
        .keyBy((r) => r.key)
        .window(tumblingEventTimeWindows<Reading>(100))
        .trigger(purgingTrigger(eventTimeTrigger<Reading, TimeWindow>()))
        .allowedLateness(50)
        .process(describeFiring)
        .collect(out);
    });
    const result = await execute(job, { workers: 0 });
    assert.deepEqual(result.get(out), ["a 0@119: 10,20", "a 0@119: 30", "a 100@end: 120"]);
  });
});
