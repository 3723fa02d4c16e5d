import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type Collector,
  collectSink,
  defineJob,
  mapState,
  valueState,
  WatermarkStrategy,
} from "@keyflow/functions-sdk";
import { execute, JobFailedError, runNode, SimulatedClock } from "../../src/index.js";
import eventTimersJob, { BOUND_MS, type Fired, fired, INPUT, timerFor } from "../fixtures/event-timers-job.js";
import { startNatsServer } from "../helpers/nats-server.js";
import { punctuated, scriptedSource, settle } from "./scripted-source.js";

const EVENT_TIMERS_JOB = new URL("../fixtures/event-timers-job.js", import.meta.url);

interface Reading {
  readonly id: string;
  readonly ts: number;
}

/** The same computation by hand: records in order, watermark after each, timers fired when passed. */
function expectedFirings(input: Reading[], bound: number): Fired[] {
  const seen = new Map<string, number>();
  const timers = new Map<string, { id: string; timer: number }>();
  const fired: Fired[] = [];
  let max = Number.NEGATIVE_INFINITY;
  const fire = (watermark: number) => {
    const due = [...timers.values()].filter((t) => t.timer <= watermark).sort((a, b) => a.timer - b.timer);
    for (const t of due) {
      timers.delete(`${t.id}@${t.timer}`);
      fired.push({ id: t.id, timer: t.timer, seen: seen.get(t.id) ?? 0, watermark });
    }
  };
  for (const r of input) {
    seen.set(r.id, (seen.get(r.id) ?? 0) + 1);
    const timer = timerFor(r);
    timers.set(`${r.id}@${timer}`, { id: r.id, timer });
    max = Math.max(max, r.ts);
    fire(max - bound - 1);
  }
  fire(Number.MAX_SAFE_INTEGER);
  return fired;
}

const byIdThenTimer = (a: Fired, b: Fired) => a.id.localeCompare(b.id) || a.timer - b.timer;

describe("timers of keyed process functions", () => {
  const expected = expectedFirings(INPUT, BOUND_MS);
  const sorted = (fired: readonly Fired[]) => [...fired].sort(byIdThenTimer);

  for (const parallelism of [1, 4]) {
    it(`fire once per key and timestamp when the watermark passes them, with the key's state (p${parallelism})`, async () => {
      assert.ok(expected.length > 100);
      const result = await execute(eventTimersJob, { parallelism, workers: 0 });
      assert.deepEqual(sorted(result.get(fired)), sorted(expected));
    });
  }

  it("fire the same across worker threads, where watermarks cross MessagePorts", async () => {
    const result = await execute(EVENT_TIMERS_JOB, { parallelism: 3, workers: 2 });
    assert.deepEqual(sorted(result.get(fired)), sorted(expected));
  });

  it("fire the same on two nodes, where watermarks cross NATS", async () => {
    const server = await startNatsServer({ jetstream: false });
    try {
      const jobId = `timers${Date.now()}`;
      const common = { natsUrl: server.url, job: EVENT_TIMERS_JOB, nodes: 2, parallelism: 4, jobId };
      const results = await Promise.all([runNode({ ...common, node: 0 }), runNode({ ...common, node: 1 })]);
      const all = results.flatMap((r) => Object.values(r.collected.fired ?? {}).flat()) as Fired[];
      assert.deepEqual(sorted(all), sorted(expected));
    } finally {
      await server.stop();
    }
  });

  it("do not fire once deleted, and fire at the end of input when the final watermark passes them", async () => {
    const fired = collectSink<string>("fired");
    const job = defineJob("deleted timers", (env) => {
      env
        .fromCollection([
          { id: "a", ts: 1 },
          { id: "a", ts: 2 },
          { id: "b", ts: 3 },
        ])
        .assignTimestampsAndWatermarks(
          WatermarkStrategy.forMonotonousTimestamps<Reading>().withTimestampAssigner((r) => r.ts),
        )
        .keyBy((r) => r.id)
        .process<string>({
          processElement(r, ctx) {
            ctx.timerService.registerEventTimeTimer(1_000 + r.ts);
            if (r.ts === 2) ctx.timerService.deleteEventTimeTimer(1_001);
          },
          onTimer(timestamp, ctx, out) {
            out.collect(`${ctx.key}@${timestamp}`);
          },
        })
        .collect(fired);
    });
    const result = await execute(job, { workers: 0 });
    assert.deepEqual(result.get(fired), ["a@1002", "b@1003"]);
  });

  it("fire processing-time timers when the clock reaches them, between records, with no record timestamp", async () => {
    const clock = new SimulatedClock(0);
    const fired = collectSink<string>("fired");
    const job = defineJob("processing timers", (env) => {
      env
        .fromSource(
          scriptedSource<Reading>([
            [
              { emit: [[{ id: "a", ts: 0 }, 0]] },
              { sleep: 300 },
              { emit: [[{ id: "b", ts: 0 }, 0]] },
              { sleep: 1_000 },
            ],
          ]),
        )
        .keyBy((r) => r.id)
        .process<string>({
          processElement(r, ctx) {
            ctx.timerService.registerProcessingTimeTimer(ctx.timerService.currentProcessingTime() + 500);
            ctx.timerService.registerProcessingTimeTimer(ctx.timerService.currentProcessingTime() + 500);
            if (r.id === "b") ctx.timerService.registerProcessingTimeTimer(600);
          },
          onTimer(timestamp, ctx, out) {
            assert.equal(ctx.timeDomain, "processingTime");
            assert.equal(ctx.timestamp, undefined);
            out.collect(`${ctx.key}@${timestamp} now ${ctx.currentProcessingTime()}`);
          },
        })
        .collect(fired);
    });
    const run = execute(job, { workers: 0, clock });
    for (let t = 0; t < 1_400; t += 100) {
      await settle();
      clock.advance(100);
    }
    await settle();
    const result = await run;
    assert.deepEqual(result.get(fired), ["a@500 now 500", "b@600 now 600", "b@800 now 800"]);
  });

  it("fail the job naming the operator, shard and timer when onTimer throws", async () => {
    const job = defineJob("failing timer", (env) => {
      env
        .fromCollection([{ id: "k", ts: 5 }])
        .assignTimestampsAndWatermarks(
          WatermarkStrategy.forMonotonousTimestamps<Reading>().withTimestampAssigner((r) => r.ts),
        )
        .keyBy((r) => r.id)
        .process<string>({
          processElement(r, ctx) {
            ctx.timerService.registerEventTimeTimer(r.ts + 10);
          },
          onTimer() {
            throw new Error("boom in timer");
          },
        })
        .name("Alarm")
        .collect(collectSink<string>("never"));
    });
    await assert.rejects(execute(job, { workers: 0 }), (error: unknown) => {
      assert.ok(error instanceof JobFailedError);
      assert.equal(error.reason.code, "USER_FUNCTION_FAILED");
      assert.equal(error.reason.details.operator, "Alarm");
      assert.equal(error.reason.details.shard, "Alarm#0");
      assert.match(error.reason.details.record ?? "", /onTimer eventTime 15 for key "k"/);
      assert.match(error.reason.message, /boom in timer/);
      return true;
    });
  });

  it("work in keyed co-process functions: a timer set from one input fires with state from both", async () => {
    const fired = collectSink<string>("fired");
    const job = defineJob("co timers", (env) => {
      env.setAutoWatermarkInterval(0);
      const strategy = WatermarkStrategy.forGenerator(punctuated<Reading>(0));
      const left = env
        .fromSource(
          scriptedSource([
            [
              {
                emit: [
                  [{ id: "x", ts: 10 }, 10],
                  [{ id: "y", ts: 20 }, 20],
                  [{ id: "x", ts: 200 }, 200],
                ],
              },
            ],
          ]),
          "left",
          strategy,
        )
        .setParallelism(1);
      const right = env
        .fromSource(
          scriptedSource([
            [
              {
                emit: [
                  [{ id: "x", ts: 15 }, 15],
                  [{ id: "x", ts: 16 }, 16],
                  [{ id: "y", ts: 300 }, 300],
                ],
              },
            ],
          ]),
          "right",
          strategy,
        )
        .setParallelism(1);
      left
        .connect(right)
        .keyBy(
          (r) => r.id,
          (r) => r.id,
        )
        .process({
          state: { rights: valueState<number>({ defaultValue: 0 }) },
          processElement1(r, ctx) {
            ctx.timerService.registerEventTimeTimer(r.ts + 50);
          },
          processElement2(_r, ctx) {
            ctx.state.rights.update((ctx.state.rights.value() ?? 0) + 1);
          },
          onTimer(timestamp, ctx, out: Collector<string>) {
            out.collect(`${ctx.key}@${timestamp} rights=${ctx.state.rights.value()}`);
          },
        })
        .collect(fired);
    });
    const result = await execute(job, { workers: 0 });
    // Event time is the minimum of both inputs: x@60 and y@70 fire once the right side passed them
    // (at its record 300); x@250 fires at the end of input. y's right reading arrived by then.
    assert.deepEqual([...result.get(fired)].sort(), ["x@250 rights=2", "x@60 rights=2", "y@70 rights=1"]);
  });

  it("work on the record side of a keyed broadcast connection, and say why on a non-keyed one", async () => {
    const fired = collectSink<string>("fired");
    const keyed = defineJob("broadcast timers", (env) => {
      const rules = env.fromCollection([{ delay: 100 }]).broadcast({ rules: mapState<string, number>() });
      env
        .fromCollection([
          { id: "a", ts: 1 },
          { id: "b", ts: 2 },
        ])
        .assignTimestampsAndWatermarks(
          WatermarkStrategy.forMonotonousTimestamps<Reading>().withTimestampAssigner((r) => r.ts),
        )
        .keyBy((r) => r.id)
        .connect(rules)
        .process({
          processElement(r, ctx) {
            ctx.timerService.registerEventTimeTimer(r.ts + (ctx.broadcastState.rules.get("delay") ?? 10));
          },
          processBroadcastElement(rule, ctx) {
            ctx.broadcastState.rules.put("delay", rule.delay);
          },
          onTimer(timestamp, ctx, out: Collector<string>) {
            out.collect(`${ctx.key}@${timestamp}`);
          },
        })
        .collect(fired);
    });
    const result = await execute(keyed, { workers: 0 });
    // The rule and the readings race (different channels), so the delay is 100 or the default 10.
    for (const line of result.get(fired)) assert.match(line, /^(a@(11|101)|b@(12|102))$/);
    assert.equal(result.get(fired).length, 2);

    const nonKeyed = defineJob("non-keyed broadcast timers", (env) => {
      const rules = env.fromCollection([1]).broadcast({ rules: mapState<string, number>() });
      env
        .fromCollection([1])
        .connect(rules)
        .process({
          processElement(_x, ctx) {
            (
              ctx as unknown as { timerService: { registerEventTimeTimer(t: number): void } }
            ).timerService.registerEventTimeTimer(5);
          },
          processBroadcastElement() {},
        })
        .name("NoKey")
        .collect(collectSink<number>("none"));
    });
    await assert.rejects(
      execute(nonKeyed, { workers: 0 }),
      /operator "NoKey".*timers need a keyed stream: keyBy\(\.\.\.\) before connect\(\.\.\.\)/s,
    );
  });
});
