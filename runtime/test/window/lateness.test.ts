import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type AggregateFunction,
  collectSink,
  defineJob,
  eventTimeTrigger,
  outputTag,
  slidingEventTimeWindows,
  type TimeWindow,
  tumblingEventTimeWindows,
} from "@keyflow/functions-sdk";
import { execute } from "../../src/index.js";
import { type Reading, type Stamped, source, stamped } from "./window-test-kit.js";

const count: AggregateFunction<Reading, number, number> = {
  createAccumulator: () => 0,
  add: (_r, n) => n + 1,
  getResult: (n) => n,
};
const at = (...timestamps: number[]): Reading[] => timestamps.map((ts) => ({ key: "a", ts, v: ts }));

// Watermark = timestamp − 1 after each reading (bound 0). Tumbling windows of 100, allowed lateness 50:
// 120 moves the watermark to 119, so [0,100) fires with 10 and 20. 30 is late for [0,100) but
// within its lateness (99 + 50 > 119): it goes in, and the window fires again at once, with 3.
// 160 moves the watermark to 159, past [0,100)'s cleanup (149): 40 is too late and is dropped.
const scenario = at(10, 20, 120, 30, 160, 40);
const firings: Array<Stamped<number>> = [
  { value: 2, ts: 99 },
  { value: 3, ts: 99 },
  { value: 2, ts: 199 },
];

for (const [path, explicitTrigger] of [
  ["the aligned fast path", false],
  ["the general operator", true],
] as const) {
  describe(`allowed lateness (${path})`, () => {
    it("fires a window again, with the late reading, while within the allowed lateness; drops and counts later readings", async () => {
      const out = collectSink<Stamped<number>>("out");
      const job = defineJob("lateness", (env) => {
        const windowed = source(env, scenario, (r) => r.ts, 0)
          .keyBy((r) => r.key)
          .window(tumblingEventTimeWindows<Reading>(100))
          .allowedLateness(50);
        if (explicitTrigger) windowed.trigger(eventTimeTrigger<Reading, TimeWindow>());
        stamped(windowed.aggregate(count).name("Counts")).collect(out);
      });
      const result = await execute(job, { workers: 0 });
      assert.deepEqual(result.get(out), firings);
      assert.deepEqual(result.metrics("Counts"), { lateRecordsDropped: 1 });
    });

    it("sends readings too late for every window to the late-data side output instead, with their timestamps", async () => {
      const late = outputTag<Reading>("late");
      const out = collectSink<Stamped<number>>("out");
      const lateOut = collectSink<Stamped<Reading>>("late");
      const job = defineJob("late-side-output", (env) => {
        const windowed = source(env, scenario, (r) => r.ts, 0)
          .keyBy((r) => r.key)
          .window(tumblingEventTimeWindows<Reading>(100))
          .allowedLateness(50)
          .sideOutputLateData(late);
        if (explicitTrigger) windowed.trigger(eventTimeTrigger<Reading, TimeWindow>());
        const counts = windowed.aggregate(count).name("Counts");
        stamped(counts).collect(out);
        stamped(counts.getSideOutput(late)).collect(lateOut);
      });
      const result = await execute(job, { workers: 0 });
      assert.deepEqual(result.get(out), firings);
      assert.deepEqual(result.get(lateOut), [{ value: { key: "a", ts: 40, v: 40 }, ts: 40 }]);
      assert.deepEqual(result.metrics("Counts"), { lateRecordsDropped: 0 });
    });

    it("drops a reading once its window ended when there is no allowed lateness", async () => {
      const out = collectSink<Stamped<number>>("out");
      const job = defineJob("no-lateness", (env) => {
        const windowed = source(env, at(10, 120, 30, 130), (r) => r.ts, 0)
          .keyBy((r) => r.key)
          .window(tumblingEventTimeWindows<Reading>(100));
        if (explicitTrigger) windowed.trigger(eventTimeTrigger<Reading, TimeWindow>());
        stamped(windowed.aggregate(count).name("Counts")).collect(out);
      });
      const result = await execute(job, { workers: 0 });
      assert.deepEqual(result.get(out), [
        { value: 1, ts: 99 },
        { value: 2, ts: 199 },
      ]);
      assert.deepEqual(result.metrics("Counts"), { lateRecordsDropped: 1 });
    });

    it("puts a reading late for some of its sliding windows into the others, and does not count it as late", async () => {
      // Windows of 100 every 50: 60 belongs to [0,100) and [50,150). After 120 (watermark 119)
      // [0,100) has fired and is gone; 60 still goes into [50,150).
      const out = collectSink<Stamped<number>>("out");
      const job = defineJob("partly-late", (env) => {
        const windowed = source(env, at(10, 120, 60), (r) => r.ts, 0)
          .keyBy((r) => r.key)
          .window(slidingEventTimeWindows<Reading>(100, 50));
        if (explicitTrigger) windowed.trigger(eventTimeTrigger<Reading, TimeWindow>());
        stamped(windowed.aggregate(count).name("Counts")).collect(out);
      });
      const result = await execute(job, { workers: 0 });
      assert.deepEqual(result.get(out), [
        { value: 1, ts: 49 }, // [-50, 50): 10
        { value: 1, ts: 99 }, // [0, 100): 10
        { value: 2, ts: 149 }, // [50, 150): 120 and the late 60
        { value: 1, ts: 199 }, // [100, 200): 120
      ]);
      assert.deepEqual(result.metrics("Counts"), { lateRecordsDropped: 0 });
    });
  });
}
