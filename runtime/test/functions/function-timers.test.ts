import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { collectSink, defineFunction, defineJob, egress, listState } from "@keyflow/functions-sdk";
import { execute, SimulatedClock } from "../../src/index.js";

type AlarmMessage =
  | { readonly kind: "set"; readonly at: number }
  | { readonly kind: "unset"; readonly at: number }
  | { readonly kind: "note"; readonly text: string };

const fired = egress<string>("fired");

/** An alarm clock per id: timers at absolute times, each firing once into onTimer with the notes taken so far. */
const alarm = defineFunction({
  type: "test/alarm",
  state: { notes: listState<string>() },
  handle(ctx, message: AlarmMessage) {
    switch (message.kind) {
      case "set":
        ctx.timers.registerProcessingTimeTimer(message.at);
        return;
      case "unset":
        ctx.timers.deleteProcessingTimeTimer(message.at);
        return;
      case "note":
        ctx.state.notes.add(message.text);
    }
  },
  onTimer(ctx, timestamp) {
    assert.equal(ctx.caller, undefined);
    ctx.egress(
      fired,
      `${ctx.self.id}@${timestamp} at ${ctx.timers.currentProcessingTime()} [${ctx.state.notes.get()}]`,
    );
  },
});

/** Registers a timer but has no onTimer: a user error, named when it happens. */
const careless = defineFunction({
  type: "test/careless",
  handle(ctx, _message: { readonly kind: "set" }) {
    ctx.timers.registerProcessingTimeTimer(10);
  },
});

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("timers of per-key functions", () => {
  for (const parallelism of [1, 3]) {
    it(`fire once per timestamp into onTimer, and not once deleted, at parallelism ${parallelism}`, async () => {
      const clock = new SimulatedClock(0);
      const sink = collectSink<string>("fired");
      const messages: Array<[string, AlarmMessage]> = [
        ["a", { kind: "set", at: 500 }],
        ["a", { kind: "set", at: 500 }], // the same timer again: still one
        ["a", { kind: "note", text: "milk" }],
        ["a", { kind: "set", at: 800 }],
        ["a", { kind: "unset", at: 800 }],
        ["b", { kind: "set", at: 300 }],
        ["b", { kind: "set", at: 900 }],
        ["c", { kind: "set", at: 200 }],
        ["c", { kind: "unset", at: 999 }], // no such timer: nothing happens
      ];
      const job = defineJob("alarms", (env) => {
        env
          .fromCollection(messages)
          .toFunctions({ functions: [alarm], route: ([id, message]) => ({ to: alarm.address(id), message }) })
          .egress(fired)
          .collect(sink);
      });
      let done = false;
      const run = execute(job, { parallelism, workers: 0, clock }).finally(() => {
        done = true;
      });
      for (let step = 0; step < 30 && !done; step++) {
        for (let i = 0; i < 5; i++) await settle();
        clock.advance(100);
      }
      const result = await run;
      assert.deepEqual(result.get(sink).sort(), [
        "a@500 at 500 [milk]",
        "b@300 at 300 []",
        "b@900 at 900 []",
        "c@200 at 200 []",
      ]);
    });
  }

  it("fail the job naming the function type when it registers a timer without onTimer", async () => {
    const job = defineJob("careless", (env) => {
      env.fromCollection(["x"]).toFunctions({
        functions: [careless],
        route: (id) => ({ to: careless.address(id), message: { kind: "set" } }),
      });
    });
    await assert.rejects(execute(job, { workers: 0 }), /test\/careless.*no onTimer/s);
  });
});
