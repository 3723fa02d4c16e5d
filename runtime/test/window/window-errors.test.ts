import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  collectSink,
  defineJob,
  eventTimeSessionWindows,
  eventTimeSessionWindowsWithDynamicGap,
  eventTimeTrigger,
  InvalidJobError,
  processingTimeSessionWindows,
  slidingEventTimeWindows,
  slidingProcessingTimeWindows,
  type TimeWindow,
  tumblingEventTimeWindows,
  tumblingProcessingTimeWindows,
} from "@keyflow/functions-sdk";
import { execute, JobFailedError } from "../../src/index.js";
import { type Reading, source } from "./window-test-kit.js";

const items: Reading[] = [
  { key: "a", ts: 5, v: 1 },
  { key: "b", ts: 7, v: 2 },
  { key: "a", ts: 150, v: 3 },
];

describe("window operators on bad input", () => {
  for (const [path, explicitTrigger] of [
    ["the aligned fast path", false],
    ["the general operator", true],
  ] as const) {
    it(`fail on a record without a timestamp, naming operator, shard and record and how to give it one (${path})`, async () => {
      const job = defineJob("no-timestamps", (env) => {
        const windowed = env
          .fromCollection(items)
          .keyBy((r) => r.key)
          .window(tumblingEventTimeWindows<Reading>(100));
        if (explicitTrigger) windowed.trigger(eventTimeTrigger<Reading, TimeWindow>());
        windowed
          .reduce((a) => a)
          .name("Windows")
          .collect(collectSink("out"));
      });
      await assert.rejects(execute(job, { workers: 0 }), (error: unknown) => {
        assert.ok(error instanceof JobFailedError, String(error));
        assert.equal(error.reason.code, "RECORD_TIMESTAMP_INVALID");
        assert.equal(error.reason.details.operator, "Windows");
        assert.equal(error.reason.details.shard, "Windows#0");
        assert.equal(error.reason.details.record, JSON.stringify(items[0]));
        assert.match(error.reason.message, /has no timestamp \(NaN\)/);
        assert.match(error.reason.message, /WatermarkStrategy/);
        return true;
      });
    });
  }

  it("name the operator, shard and record when the reduce function throws", async () => {
    const job = defineJob("throwing-reduce", (env) => {
      source(env, items, (r) => r.ts)
        .keyBy((r) => r.key)
        .window(tumblingEventTimeWindows<Reading>(1_000))
        .reduce((a, b) => {
          if (b.ts === 150) throw new Error("cannot reduce 150");
          return a;
        })
        .name("Windows")
        .collect(collectSink("out"));
    });
    await assert.rejects(execute(job, { workers: 0 }), (error: unknown) => {
      assert.ok(error instanceof JobFailedError, String(error));
      assert.equal(error.reason.code, "USER_FUNCTION_FAILED");
      assert.equal(error.reason.details.operator, "Windows");
      assert.equal(error.reason.details.record, JSON.stringify(items[2]));
      assert.match(error.reason.message, /cannot reduce 150/);
      return true;
    });
  });

  it("name the window, its key and the timer when a process window function throws as the window fires", async () => {
    const job = defineJob("throwing-process", (env) => {
      source(env, items, (r) => r.ts)
        .keyBy((r) => r.key)
        .window(tumblingEventTimeWindows<Reading>(100))
        .process({
          process(key) {
            if (key === "b") throw new Error("cannot process b");
          },
        })
        .name("Windows")
        .collect(collectSink("out"));
    });
    await assert.rejects(execute(job, { workers: 0 }), (error: unknown) => {
      assert.ok(error instanceof JobFailedError, String(error));
      assert.equal(error.reason.code, "USER_FUNCTION_FAILED");
      assert.equal(error.reason.details.operator, "Windows");
      assert.match(
        error.reason.details.record ?? "",
        /event-time timer 99 of window TimeWindow\[0, 100\) for key \\"b\\"/,
      );
      assert.match(error.reason.message, /cannot process b/);
      return true;
    });
  });

  it("fail a record whose dynamic session gap is not positive", async () => {
    const job = defineJob("zero-gap", (env) => {
      source(env, items, (r) => r.ts)
        .keyBy((r) => r.key)
        .window(eventTimeSessionWindowsWithDynamicGap<Reading>((r) => (r.v === 2 ? 0 : 10)))
        .reduce((a) => a)
        .name("Sessions")
        .collect(collectSink("out"));
    });
    await assert.rejects(execute(job, { workers: 0 }), (error: unknown) => {
      assert.ok(error instanceof JobFailedError, String(error));
      assert.equal(error.reason.details.record, JSON.stringify(items[1]));
      assert.equal(error.reason.details.causeCode, "JOB_INVALID");
      assert.match(error.reason.message, /gap must be a positive number of milliseconds, got 0/);
      return true;
    });
  });
});

describe("window assigners", () => {
  const refusals: Array<[string, () => unknown, RegExp]> = [
    ["tumblingEventTimeWindows", () => tumblingEventTimeWindows(0), /size must be a positive/],
    ["tumblingProcessingTimeWindows", () => tumblingProcessingTimeWindows(-5), /size must be a positive/],
    ["slidingEventTimeWindows", () => slidingEventTimeWindows(100, 0), /slide must be a positive/],
    ["slidingProcessingTimeWindows", () => slidingProcessingTimeWindows(0, 10), /size must be a positive/],
    ["eventTimeSessionWindows", () => eventTimeSessionWindows(0), /gap must be a positive/],
    ["processingTimeSessionWindows", () => processingTimeSessionWindows(-1), /gap must be a positive/],
    ["tumblingEventTimeWindows", () => tumblingEventTimeWindows(100, 100), /offset 100 must be smaller than the size/],
  ];
  for (const [name, make, message] of refusals) {
    it(`${name} refuses a size, slide, gap or offset out of range when the job is built`, () => {
      assert.throws(make, (error: unknown) => {
        assert.ok(error instanceof InvalidJobError, String(error));
        assert.equal(error.code, "JOB_INVALID");
        assert.equal(error.operator, name);
        assert.match(error.message, message);
        return true;
      });
    });
  }
});
