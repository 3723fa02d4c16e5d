import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type AggregateFunction,
  type Collector,
  collectSink,
  continuousEventTimeTrigger,
  countTrigger,
  defineJob,
  eventTimeSessionWindows,
  type JobDefinition,
  type KeyedStream,
  slidingEventTimeWindows,
  type TimeWindow,
  timeEvictor,
  tumblingEventTimeWindows,
  tumblingProcessingTimeWindows,
  valueState,
} from "@keyflow/functions-sdk";
import { AlignedWindowOperator } from "../../src/window/aligned-window-operator.js";
import { WindowOperator } from "../../src/window/window-operator.js";
import { WindowHarness } from "../helpers/window-harness.js";
import { type Reading, readings } from "./window-test-kit.js";

const KEYS = 20;
// About 20k readings over 200 s of event time: thousands of windows per key over the run.
const data = readings(20_000, KEYS, 31);
const lastTs = Math.max(...data.map((r) => r.ts));

const count: AggregateFunction<Reading, number, number> = {
  createAccumulator: () => 0,
  add: (_r, n) => n + 1,
  getResult: (n) => n,
  merge: (a, b) => a + b,
};

function windowJob(
  build: (keyed: KeyedStream<Reading, string>) => { collect: (sink: never) => unknown },
): JobDefinition {
  return defineJob("cleanup", (env) => {
    build(env.fromCollection(data).keyBy((r) => r.key)).collect(collectSink("out") as never);
  });
}

/**
 * Feeds every reading with its timestamp and a watermark 50 ms behind after each 100, checking
 * that what the operator holds stays bounded; then a watermark past every window, after which it
 * must hold nothing.
 */
async function runLong(job: JobDefinition, operatorClass: Function, bound: number): Promise<WindowHarness> {
  const harness = new WindowHarness(job);
  assert.ok(harness.operator instanceof operatorClass, `runs on ${operatorClass.name}`);
  await harness.open();
  let maxSeen = 0;
  let held = 0;
  data.forEach((r, i) => {
    harness.record(r, r.ts);
    maxSeen = Math.max(maxSeen, r.ts);
    if (i % 100 === 99) {
      harness.watermark(maxSeen - 51);
      held = Math.max(held, harness.operator.windowCount);
    }
  });
  assert.ok(held > 0 && held <= bound, `held at most ${held} windows at once (bound ${bound})`);
  assert.ok(
    harness.emitted.length > 10 * held,
    `fired ${harness.emitted.length} times, many more than it held at once`,
  );
  harness.watermark(lastTs + 100_000);
  assert.deepEqual(harness.operator.counts(), {
    contents: 0,
    triggerState: 0,
    windowState: 0,
    mergingWindows: 0,
    eventTimers: 0,
    processingTimers: 0,
  });
  assert.equal(harness.operator.windowCount, 0);
  assert.equal(harness.operator.timerCount, 0);
  await harness.finish();
  return harness;
}

const describeWindow = {
  windowState: { firings: valueState<number>({ defaultValue: 0 }) },
  process(
    _key: string,
    ctx: { windowState: { firings: { value(): number | undefined; update(n: number): void } } },
    _elements: readonly unknown[],
    out: Collector<number>,
  ) {
    const firing = (ctx.windowState.firings.value() ?? 0) + 1;
    ctx.windowState.firings.update(firing);
    out.collect(firing);
  },
};

describe("window cleanup: after a long run every window and timer is gone", () => {
  it("sliding windows with allowed lateness on the aligned fast path", async () => {
    await runLong(
      windowJob((k) => k.window(slidingEventTimeWindows<Reading>(100, 20)).allowedLateness(30).aggregate(count)),
      AlignedWindowOperator,
      KEYS * 8,
    );
  });

  it("tumbling windows with a process window function's window state on the aligned fast path", async () => {
    await runLong(
      windowJob((k) => k.window(tumblingEventTimeWindows<Reading>(100)).aggregate(count, describeWindow)),
      AlignedWindowOperator,
      KEYS * 2,
    );
  });

  it("sliding windows with trigger state and window state on the general operator", async () => {
    await runLong(
      windowJob((k) =>
        k
          .window(slidingEventTimeWindows<Reading>(100, 25))
          .trigger(countTrigger<Reading, TimeWindow>(3))
          .allowedLateness(10)
          .process(describeWindow),
      ),
      WindowOperator,
      KEYS * 12,
    );
  });

  it("session windows (merging sets) with a continuous trigger's state and timers", async () => {
    await runLong(
      windowJob((k) =>
        k
          .window(eventTimeSessionWindows<Reading>(60))
          .trigger(continuousEventTimeTrigger<Reading, TimeWindow>(40))
          .aggregate(count),
      ),
      WindowOperator,
      KEYS * 4,
    );
  });

  it("windows with an evictor, keeping every record until cleanup", async () => {
    await runLong(
      windowJob((k) => k.window(tumblingEventTimeWindows<Reading>(100)).evictor(timeEvictor(30)).aggregate(count)),
      WindowOperator,
      KEYS * 2,
    );
  });

  it("processing-time windows once the clock passes their end, and global count windows after each firing", async () => {
    const timed = new WindowHarness(
      windowJob((k) => k.window(tumblingProcessingTimeWindows<Reading>(100)).aggregate(count)),
    );
    await timed.open();
    for (let i = 0; i < 5_000; i++) {
      timed.record(data[i], Number.NaN);
      timed.clock.advance(3);
    }
    timed.clock.advance(1_000);
    assert.equal(
      timed.take().reduce((s: number, n) => s + (n as number), 0),
      5_000,
      "every record was counted once",
    );
    assert.deepEqual([timed.operator.windowCount, timed.operator.timerCount], [0, 0]);

    const counted = new WindowHarness(windowJob((k) => k.countWindow(4).aggregate(count)));
    await counted.open();
    const perKey = new Map<string, number>();
    for (const r of data) {
      const n = (perKey.get(r.key) ?? 0) + 1;
      perKey.set(r.key, n);
      counted.record(r, Number.NaN);
      assert.equal(counted.operator.timerCount, 0, "global windows get no cleanup timers");
    }
    const leftover = [...perKey.values()].filter((n) => n % 4 !== 0).length;
    // A purged global window keeps nothing; only keys with an incomplete last window hold contents and a count.
    assert.ok(leftover > 0);
    assert.deepEqual(counted.operator.counts(), {
      contents: leftover,
      triggerState: leftover,
      windowState: 0,
      mergingWindows: 0,
      eventTimers: 0,
      processingTimers: 0,
    });
  });
});
