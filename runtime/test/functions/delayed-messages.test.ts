import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type CancellationToken,
  collectSink,
  defineFunction,
  defineJob,
  egress,
  mapState,
} from "@keyflow/functions-sdk";
import { execute, SimulatedClock } from "../../src/index.js";
import { type Count, counter, counts } from "./function-types.js";

type ReminderMessage =
  | { readonly kind: "arm"; readonly tag: string; readonly delayMs: number; readonly cancelFrom?: string }
  | { readonly kind: "disarm"; readonly tag: string }
  | { readonly kind: "ring"; readonly tag: string };

const rings = egress<string>("rings");

const reminder = defineFunction({
  type: "test/reminder",
  state: { tokens: mapState<string, CancellationToken>() },
  handle(ctx, message: ReminderMessage) {
    switch (message.kind) {
      case "arm": {
        const token = ctx.sendAfter(message.delayMs, ctx.self, { kind: "ring", tag: message.tag });
        ctx.state.tokens.put(message.tag, token);
        if (message.cancelFrom !== undefined) ctx.send(canceller.address(message.cancelFrom), { token });
        return;
      }
      case "disarm": {
        const token = ctx.state.tokens.get(message.tag);
        if (token !== undefined) ctx.cancel(token);
        return;
      }
      case "ring":
        ctx.egress(rings, `${ctx.self.id}:${message.tag}@${ctx.currentProcessingTime()}`);
        // Cancelling a message that was delivered does nothing.
        ctx.cancel(ctx.state.tokens.get(message.tag) as CancellationToken);
        ctx.sendAfter(0, counter.address(ctx.self.id), { kind: "add", n: 1 });
    }
  },
});

/** Cancels, from another address, a delayed message it was given the token of. */
const canceller = defineFunction({
  type: "test/canceller",
  handle(ctx, message: { readonly token: CancellationToken }) {
    ctx.cancel(message.token);
  },
});

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("delayed messages", () => {
  for (const parallelism of [1, 3]) {
    it(`fire once when their time comes and not at all once cancelled, at parallelism ${parallelism}`, async () => {
      const clock = new SimulatedClock(0);
      const ringSink = collectSink<string>("rings");
      const countSink = collectSink<Count>("counts");
      const messages: Array<[string, ReminderMessage]> = [
        ["x", { kind: "arm", tag: "a", delayMs: 1_000 }],
        ["x", { kind: "arm", tag: "b", delayMs: 500 }],
        ["x", { kind: "disarm", tag: "b" }],
        ["x", { kind: "arm", tag: "d1", delayMs: 700 }],
        ["x", { kind: "arm", tag: "d2", delayMs: 700 }],
        ["y", { kind: "arm", tag: "c", delayMs: 300, cancelFrom: "z" }],
        ["y", { kind: "arm", tag: "e", delayMs: 300 }],
        ["w", { kind: "arm", tag: "f", delayMs: 0 }],
      ];
      const job = defineJob("reminders", (env) => {
        const functions = env.fromCollection(messages).toFunctions({
          functions: [reminder, canceller, counter],
          route: ([id, message]) => ({ to: reminder.address(id), message }),
        });
        functions.egress(rings).collect(ringSink);
        functions.egress(counts).collect(countSink);
      });
      let done = false;
      const run = execute(job, { parallelism, workers: 0, clock }).finally(() => {
        done = true;
      });
      const finishedAt: number[] = [];
      for (let step = 0; step < 30 && !done; step++) {
        for (let i = 0; i < 5; i++) await settle();
        if (done) finishedAt.push(clock.now());
        clock.advance(100);
      }
      const result = await run;
      assert.ok(clock.now() >= 1_000, "the job waited for its delayed messages");
      // A delay of 0 fires when the simulated clock next moves (to 100).
      assert.deepEqual(result.get(ringSink).sort(), ["w:f@100", "x:a@1000", "x:d1@700", "x:d2@700", "y:e@300"]);
      const finalCounts = new Map(result.get(countSink).map((c) => [c.id, c.count]));
      assert.deepEqual(
        finalCounts,
        new Map([
          ["w", 1],
          ["x", 3],
          ["y", 1],
        ]),
        "a ring's own delayed message arrived once",
      );
    });
  }
});
