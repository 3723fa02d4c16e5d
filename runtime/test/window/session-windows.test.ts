import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type AggregateFunction,
  type Collector,
  collectSink,
  countTrigger,
  defineJob,
  eventTimeSessionWindows,
  eventTimeSessionWindowsWithDynamicGap,
  type JobDefinition,
  type TimeWindow,
  type Trigger,
  valueState,
} from "@keyflow/functions-sdk";
import { execute, JobFailedError } from "../../src/index.js";
import { type Reading, readings, type Stamped, sessions, sorted, source, stamped } from "./window-test-kit.js";

// Sparse readings (up to 20 ms apart per record, over 4 keys), so sessions of 30 ms both merge and end.
const data = readings(500, 4, 11);
const gapOf = (r: Reading): number => 10 + r.v * 4;

interface Session {
  readonly key: string;
  readonly start: number;
  readonly end: number;
  readonly count: number;
  readonly sum: number;
}

const counting: AggregateFunction<Reading, { count: number; sum: number }, { count: number; sum: number }> = {
  createAccumulator: () => ({ count: 0, sum: 0 }),
  add: (r, acc) => ({ count: acc.count + 1, sum: acc.sum + r.v }),
  getResult: (acc) => acc,
  merge: (a, b) => ({ count: a.count + b.count, sum: a.sum + b.sum }),
};

function expectedSessions(gap: (r: Reading) => number): Session[] {
  return sessions(data, gap).map((s) => ({
    key: s.key,
    start: s.start,
    end: s.end,
    count: s.items.length,
    sum: s.items.reduce((total, r) => total + r.v, 0),
  }));
}

describe("event-time session windows", () => {
  it("give a process window function each session's readings, merged as readings bridge sessions", async () => {
    const out = collectSink<Session>("out");
    const job = defineJob("sessions", (env) => {
      source(env, data, (r) => r.ts)
        .keyBy((r) => r.key)
        .window(eventTimeSessionWindows<Reading>(30))
        .process({
          process(key, ctx, elements, collector: Collector<Session>) {
            const { start, end } = ctx.window;
            collector.collect({ key, start, end, count: elements.length, sum: elements.reduce((s, r) => s + r.v, 0) });
          },
        })
        .collect(out);
    });
    const result = await execute(job, { workers: 0 });
    const expected = expectedSessions(() => 30);
    assert.ok(
      expected.some((s) => s.count > 3),
      "some sessions merge several readings",
    );
    assert.deepEqual(sorted(result.get(out)), sorted(expected));
  });

  it("size each session with a gap computed from its readings", async () => {
    const out = collectSink<Session>("out");
    const job = defineJob("dynamic-gap", (env) => {
      source(env, data, (r) => r.ts)
        .keyBy((r) => r.key)
        .window(eventTimeSessionWindowsWithDynamicGap<Reading>(gapOf))
        .aggregate(counting, {
          process(key, ctx, [acc], collector: Collector<Session>) {
            const { count, sum } = acc as { count: number; sum: number };
            collector.collect({ key, start: ctx.window.start, end: ctx.window.end, count, sum });
          },
        })
        .collect(out);
    });
    const result = await execute(job, { workers: 0 });
    assert.deepEqual(sorted(result.get(out)), sorted(expectedSessions(gapOf)));
  });

  it("merge reduced values of merging sessions and emit at the session's max timestamp", async () => {
    const out = collectSink<Stamped<Reading>>("out");
    const job = defineJob("reduce", (env) => {
      stamped(
        source(env, data, (r) => r.ts)
          .keyBy((r) => r.key)
          .window(eventTimeSessionWindows<Reading>(30))
          .reduce((a, b) => ({ key: a.key, ts: Math.min(a.ts, b.ts), v: a.v + b.v })),
      ).collect(out);
    });
    const result = await execute(job, { workers: 0 });
    const expected = sessions(data, () => 30).map((s) => ({
      value: { key: s.key, ts: s.start, v: s.items.reduce((total, r) => total + r.v, 0) },
      ts: s.end - 1,
    }));
    assert.deepEqual(sorted(result.get(out)), sorted(expected));
  });

  it("merge trigger state and contents: a count trigger counts over the sessions a reading bridges", async () => {
    // Gap 10. Key a: [0,10) and [20,30) hold one reading each; 10 bridges them into [0,30), whose
    // merged count (1 + 1) plus the bridging reading reaches 3 and fires. The contents keep the
    // first session's records first. After the firing the count restarts: 25 joins ([0,35)), then
    // 26 and 27 reach 3 again. No watermark passes any session until the end, and the count
    // trigger never fires on time, so nothing else is emitted.
    const items: Reading[] = [0, 20, 10, 25, 26, 27].map((ts) => ({ key: "a", ts, v: 0 }));
    const out = collectSink<string>("out");
    const job = defineJob("count-sessions", (env) => {
      source(env, items, (r) => r.ts, 1_000)
        .keyBy((r) => r.key)
        .window(eventTimeSessionWindows<Reading>(10))
        .trigger(countTrigger<Reading, TimeWindow>(3))
        .process({
          process(key, ctx, elements, collector: Collector<string>) {
            collector.collect(`${key} ${ctx.window} ${elements.map((r) => r.ts).join(",")}`);
          },
        })
        .collect(out);
    });
    const result = await execute(job, { workers: 0 });
    assert.deepEqual(result.get(out), ["a TimeWindow[0, 30) 0,20,10", "a TimeWindow[0, 37) 0,20,10,25,26,27"]);
  });
});

describe("session windows refuse at open", () => {
  async function rejectsAtOpen(job: JobDefinition, problem: RegExp): Promise<void> {
    await assert.rejects(execute(job, { workers: 0 }), (error: unknown) => {
      assert.ok(error instanceof JobFailedError, String(error));
      assert.equal(error.reason.code, "JOB_INVALID");
      assert.match(error.reason.message, /operator "Sessions"/);
      assert.match(error.reason.message, problem);
      return true;
    });
  }
  const few: Reading[] = [{ key: "a", ts: 1, v: 1 }];

  it("a trigger that cannot merge windows", async () => {
    const cannotMerge: Trigger<Reading, TimeWindow> = {
      onElement: () => "continue",
      onEventTime: () => "fire",
      onProcessingTime: () => "continue",
      clear() {},
    };
    const job = defineJob("no-merge-trigger", (env) => {
      source(env, few, (r) => r.ts)
        .keyBy((r) => r.key)
        .window(eventTimeSessionWindows<Reading>(10))
        .trigger(cannotMerge)
        .reduce((a) => a)
        .name("Sessions")
        .collect(collectSink("out"));
    });
    await rejectsAtOpen(job, /trigger does not support merging/);
  });

  it("an AggregateFunction without merge", async () => {
    const { merge: _merge, ...noMerge } = counting;
    const job = defineJob("no-merge-aggregate", (env) => {
      source(env, few, (r) => r.ts)
        .keyBy((r) => r.key)
        .window(eventTimeSessionWindows<Reading>(10))
        .aggregate(noMerge)
        .name("Sessions")
        .collect(collectSink("out"));
    });
    await rejectsAtOpen(job, /AggregateFunction has no merge/);
  });

  it("per-window state in a process window function", async () => {
    const job = defineJob("window-state", (env) => {
      source(env, few, (r) => r.ts)
        .keyBy((r) => r.key)
        .window(eventTimeSessionWindows<Reading>(10))
        .process({
          windowState: { seen: valueState<number>() },
          process() {},
        })
        .name("Sessions")
        .collect(collectSink("out"));
    });
    await rejectsAtOpen(job, /per-window state/);
  });
});
