import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Collector, collectSink, defineJob, outputTag, WatermarkStrategy } from "@keyflow/functions-sdk";
import { execute, JobFailedError, SimulatedClock } from "../../src/index.js";
import { type Step, scriptedSource, settle } from "./scripted-source.js";

interface Reading {
  readonly id: string;
  readonly ts: number;
}
const reading = (id: string, ts: number) => [{ id, ts }, ts] as const;

/** Runs a job while moving a simulated clock forward in 50 ms steps up to `untilMs`. */
async function runWithClock<T>(run: (clock: SimulatedClock) => Promise<T>, untilMs: number): Promise<T> {
  const clock = new SimulatedClock(0);
  const result = run(clock);
  for (let t = 0; t < untilMs; t += 50) {
    await settle();
    clock.advance(50);
  }
  await settle();
  return result;
}

/** A timer 1 ms after each reading; firing reports the processing time it fired at. */
function timerJob(name: string, scripts: Step<Reading>[][], strategy: WatermarkStrategy<Reading>) {
  const fired = collectSink<string>("fired");
  const job = defineJob(name, (env) => {
    env.setAutoWatermarkInterval(100);
    env
      .fromSource(scriptedSource(scripts), "readings", strategy)
      .setParallelism(scripts.length)
      .keyBy((r) => r.id)
      .process({
        processElement(r, ctx) {
          ctx.timerService.registerEventTimeTimer(r.ts + 1);
        },
        onTimer(timestamp, ctx, out: Collector<string>) {
          out.collect(`${ctx.key}@${timestamp} at ${ctx.currentProcessingTime()}`);
        },
      })
      .setParallelism(1)
      .collect(fired);
  });
  return { job, fired };
}

describe("watermarks", () => {
  it("are emitted by each split every auto-watermark interval of processing time, trailing by the bound", async () => {
    const { job, fired } = timerJob(
      "periodic",
      [
        [
          { emit: [reading("a", 1_000), reading("a", 1_100)] },
          { sleep: 1_000 },
          { emit: [reading("a", 1_500)] },
          { sleep: 1_000 },
        ],
      ],
      WatermarkStrategy.forBoundedOutOfOrderness<Reading>(200),
    );
    const result = await runWithClock((clock) => execute(job, { workers: 0, clock }), 2_500);
    // Max 1100 − 200 − 1 = 899 passes no timer; at 1000 ms the reading 1500 arrives and the next
    // tick (1100 ms) emits 1299: timers 1001 and 1101 fire then. 1501 fires at the end (2000 ms).
    assert.deepEqual(result.get(fired), ["a@1001 at 1100", "a@1101 at 1100", "a@1501 at 2000"]);
  });

  it("of an idle split do not hold event time back once it is marked idle", async () => {
    const scripts: Step<Reading>[][] = [
      [{ emit: [reading("a", 100), reading("b", 200), reading("a", 300)] }, { sleep: 2_000 }],
      [{ sleep: 5_000 }],
    ];
    const strategy = WatermarkStrategy.forBoundedOutOfOrderness<Reading>(0);
    const idle = timerJob("idle split", scripts, strategy.withIdleness(500));
    const withIdleness = await runWithClock((clock) => execute(idle.job, { workers: 0, clock }), 5_500);
    // Split 1 is idle from 500 ms: the watermark becomes split 0's (299) at the next tick.
    assert.deepEqual(withIdleness.get(idle.fired), ["a@101 at 500", "b@201 at 500", "a@301 at 2000"]);

    const held = timerJob("held back", scripts, strategy);
    const without = await runWithClock((clock) => execute(held.job, { workers: 0, clock }), 5_500);
    assert.deepEqual(without.get(held.fired), ["a@101 at 5000", "b@201 at 5000", "a@301 at 5000"]);
  });

  it("take the minimum over splits, so a slow split holds back a fast one", async () => {
    const { job, fired } = timerJob(
      "minimum",
      [
        [{ emit: [reading("fast", 10_000)] }, { sleep: 1_000 }],
        [{ emit: [reading("slow", 100)] }, { sleep: 300 }, { emit: [reading("slow", 5_000)] }, { sleep: 1_000 }],
      ],
      WatermarkStrategy.forMonotonousTimestamps<Reading>(),
    );
    const result = await runWithClock((clock) => execute(job, { workers: 0, clock }), 1_500);
    // The fast split's watermark is 9999 from the first tick, but the slow split's 99 holds event
    // time until its reading 5000 (at 300 ms) lets the 400 ms tick move it to 4999; the rest
    // waits for the end of both splits (1300 ms).
    assert.deepEqual(result.get(fired), ["slow@101 at 400", "slow@5001 at 1300", "fast@10001 at 1300"]);
  });
});

describe("timestamps that cannot be read", () => {
  const bad: unknown[] = [
    { id: "a", ts: 5 },
    { id: "b" },
    { id: "c", ts: Number.NaN },
    { id: "d", ts: "7" },
    { id: "e", ts: 9 },
  ];

  it("fail the job naming the operator and the record", async () => {
    const job = defineJob("bad timestamps", (env) => {
      env
        .fromCollection(bad as Reading[])
        .assignTimestampsAndWatermarks(
          WatermarkStrategy.forMonotonousTimestamps<Reading>().withTimestampAssigner((r) => r.ts),
        )
        .name("Stamp")
        .collect(collectSink<Reading>("out"));
    });
    await assert.rejects(execute(job, { workers: 0 }), (error: unknown) => {
      assert.ok(error instanceof JobFailedError);
      assert.equal(error.reason.code, "RECORD_TIMESTAMP_INVALID");
      assert.equal(error.reason.details.operator, "Stamp");
      assert.equal(error.reason.details.record, '{"id":"b"}');
      assert.match(error.message, /operator "Stamp" \(shard Stamp#0\): record \{"id":"b"\} has no timestamp/);
      return true;
    });
  });

  it("go to the strategy's side output when it names one, and the rest flow on", async () => {
    const invalid = outputTag<Reading>("no-timestamp");
    const good = collectSink<number>("good");
    const rejected = collectSink<Reading>("rejected");
    const job = defineJob("routed timestamps", (env) => {
      const stamped = env.fromCollection(bad as Reading[]).assignTimestampsAndWatermarks(
        WatermarkStrategy.forMonotonousTimestamps<Reading>()
          .withTimestampAssigner((r) => r.ts)
          .withInvalidTimestampsTo(invalid),
      );
      stamped
        .process({
          processElement(_r, ctx, out: Collector<number>) {
            out.collect(ctx.timestamp ?? -1);
          },
        })
        .collect(good);
      stamped.getSideOutput(invalid).collect(rejected);
    });
    const result = await execute(job, { workers: 0 });
    assert.deepEqual(result.get(good), [5, 9]);
    assert.deepEqual(
      result.get(rejected).map((r) => r.id),
      ["b", "c", "d"],
    );
  });

  it("of a source without an assigner fail with a hint to add one", async () => {
    const job = defineJob("unstamped", (env) => {
      env
        .fromSource(
          scriptedSource([[{ emit: [[{ id: "a", ts: 1 }, Number.NaN]] }]]),
          "raw",
          WatermarkStrategy.forMonotonousTimestamps(),
        )
        .collect(collectSink<Reading>("out"));
    });
    await assert.rejects(
      execute(job, { workers: 0 }),
      /record \{"id":"a","ts":1\} has no timestamp \(NaN\); give the watermark strategy a timestamp assigner/,
    );
  });
});
