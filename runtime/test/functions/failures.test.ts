import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type Address,
  collectSink,
  type DeadLetter,
  defineFunction,
  defineJob,
  egress,
  valueState,
} from "@keyflow/functions-sdk";
import { FeedbackUnreachableError } from "../../src/handler/errors.js";
import { FeedbackLoop } from "../../src/handler/feedback-loop.js";
import { execute, JobFailedError } from "../../src/index.js";
import { type Count, type CounterMessage, counter, counts } from "./function-types.js";

/** Counts like the counter, tells the counter of its id first, and throws on 12 for id "bad". */
const fragile = defineFunction({
  type: "test/fragile",
  state: { seen: valueState<number>() },
  handle(ctx, n: number) {
    ctx.send(counter.address(ctx.self.id), { kind: "add", n });
    ctx.state.seen.update((ctx.state.seen.value() ?? 0) + 1);
    if (n === 12 && ctx.self.id === "bad") throw new Error("twelve is unlucky");
  },
});

const inputs: Array<[string, number]> = [];
for (let i = 0; i < 30; i++) inputs.push([i % 3 === 0 ? "bad" : `good${i % 3}`, i]);

function job(deadLetters?: ReturnType<typeof egress<DeadLetter>>) {
  const countSink = collectSink<Count>("counts");
  const deadSink = collectSink<DeadLetter>("dead");
  return {
    countSink,
    deadSink,
    job: defineJob("fragile", (env) => {
      const functions = env.fromCollection(inputs).toFunctions({
        functions: [fragile, counter],
        route: ([id, n]) => ({ to: fragile.address(id), message: n }),
        deadLetters,
      });
      functions.egress(counts).collect(countSink);
      if (deadLetters !== undefined) functions.egress(deadLetters).collect(deadSink);
    }),
  };
}

describe("functions that fail", () => {
  it("fail the job naming the function type, the id and the message", async () => {
    await assert.rejects(execute(job().job, { parallelism: 2, workers: 0 }), (error: unknown) => {
      assert.ok(error instanceof JobFailedError, String(error));
      const { reason } = error;
      assert.equal(reason.code, "FUNCTION_HANDLER_FAILED", reason.message);
      assert.equal(reason.details.functionType, "test/fragile");
      assert.equal(reason.details.functionId, "bad");
      assert.equal(reason.details.record, "12");
      assert.equal(reason.details.operator, "Functions");
      assert.match(reason.message, /function "test\/fragile" id "bad" .* failed on message 12: twelve is unlucky/);
      return true;
    });
  });

  it("send a failed message to the dead letters with its error, dropping what the handler sent, and go on", async () => {
    const dead = egress<DeadLetter>("dead");
    const { job: deadJob, countSink, deadSink } = job(dead);
    const result = await execute(deadJob, { parallelism: 3, workers: 0 });
    assert.deepEqual(result.get(deadSink), [
      {
        address: { type: "test/fragile", id: "bad" },
        caller: undefined,
        message: 12,
        error: { name: "Error", message: "twelve is unlucky", code: undefined },
      },
    ]);
    const finals = new Map<string, number>();
    for (const c of result.get(countSink)) finals.set(c.id, Math.max(finals.get(c.id) ?? 0, c.count));
    const expected = new Map<string, number>();
    for (const [id, n] of inputs) if (!(id === "bad" && n === 12)) expected.set(id, (expected.get(id) ?? 0) + n);
    assert.deepEqual(finals, expected, "the failed handler's message to the counter was not sent");
  });

  it("fail the job when a message goes to a function type the operator does not host", async () => {
    const stranger = { type: "test/stranger", id: "s" } as unknown as Address<CounterMessage>;
    const strangerJob = defineJob("stranger", (env) => {
      env
        .fromCollection([1])
        .toFunctions({ functions: [counter], route: () => ({ to: stranger, message: { kind: "reset" } }) })
        .egress(counts)
        .discard();
    });
    await assert.rejects(execute(strangerJob, { workers: 0 }), (error: unknown) => {
      assert.ok(error instanceof JobFailedError, String(error));
      assert.equal(error.reason.code, "FUNCTION_TYPE_UNKNOWN");
      assert.match(
        error.reason.message,
        /no function type "test\/stranger" for id "s"; this operator hosts "test\/counter"/,
      );
      return true;
    });
  });

  it("run one functions operator's shards on different worker threads, as on one thread", async () => {
    const module = new URL("../fixtures/functions-job.js", import.meta.url);
    const onWorkers = await execute(module, { parallelism: 2, workers: 2 });
    const oneThread = await execute(module, { parallelism: 2, workers: 0 });
    assert.equal(onWorkers.collected.get("counts")?.length, 100);
    const sorted = (values: readonly unknown[] | undefined) => (values ?? []).map((v) => JSON.stringify(v)).sort();
    assert.deepEqual(sorted(onWorkers.collected.get("counts")), sorted(oneThread.collected.get("counts")));
  });

  it("name the shards a feedback loop without a network to other threads cannot reach", () => {
    const loop = new FeedbackLoop(3);
    const endpoint = { deliver() {}, pendingDelayed: 0, quiet() {} };
    loop.join(1, endpoint);
    assert.deepEqual(loop.missing(), [0, 2]);
    const error = new FeedbackUnreachableError("Functions", "Functions#1", loop.missing());
    assert.equal(error.code, "FUNCTIONS_FEEDBACK_UNREACHABLE");
    assert.match(error.message, /shards 0, 2 of this functions operator/);
  });
});
