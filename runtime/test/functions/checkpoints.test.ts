import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { collectSink, defineFunction, defineJob, egress, valueState } from "@keyflow/functions-sdk";
import { execute, MemoryCheckpointStorage } from "../../src/index.js";

const COUNT = 100_000;
const KEYS = 50;
const TICK = 1_000_000;

interface Total {
  readonly id: string;
  readonly total: number;
}
const totals = egress<Total>("totals");

let failed = false;

/**
 * Adds numbers per key; its first number schedules a delayed "tick" to itself that adds a
 * million. Throws once, the first time it meets `POISON` (the flag outlives the restart, as a
 * transient fault would). No message is on the feedback loop when it throws: delayed messages
 * go to the sender itself, whose shard handles them before its next element.
 */
const adder = defineFunction({
  type: "test/adder",
  state: { total: valueState<number>() },
  handle(ctx, message: { readonly n: number } | { readonly tick: true }) {
    if ("n" in message && message.n === POISON && !failed) {
      failed = true;
      throw new Error(`transient fault at ${message.n}`);
    }
    const before = ctx.state.total.value();
    if (before === undefined) ctx.sendAfter(30, ctx.self, { tick: true });
    const total = (before ?? 0) + ("n" in message ? message.n : TICK);
    ctx.state.total.update(total);
    ctx.egress(totals, { id: ctx.self.id, total });
  },
});
const POISON = 60_001;

describe("functions under checkpoints", () => {
  it("restart from the latest checkpoint after a handler failed: state and delayed messages exactly once", async () => {
    const sink = collectSink<Total>("totals");
    const job = defineJob("checkpointed adders", (env) => {
      env
        .generate({ count: COUNT, make: (i) => i })
        .setParallelism(2)
        .toFunctions({ functions: [adder], route: (n) => ({ to: adder.address(`k${n % KEYS}`), message: { n } }) })
        .uid("adders")
        .egress(totals)
        .collect(sink);
    });
    const log: string[] = [];
    const result = await execute(job, {
      workers: 0,
      parallelism: 2,
      batchSize: 100,
      checkpoints: { intervalMs: 2, storage: new MemoryCheckpointStorage() },
      restartStrategy: { kind: "fixedDelay", attempts: 2, delayMs: 0 },
      log: (line) => log.push(line),
    });
    const restarts = log.filter((line) => line.startsWith("job failed"));
    assert.equal(restarts.length, 1, log.join("\n"));
    assert.match(restarts[0] ?? "", /function "test\/adder" .* failed on message \{"n":60001\}: transient fault/);
    const finals = new Map<string, number>();
    for (const t of result.get(sink)) finals.set(t.id, Math.max(finals.get(t.id) ?? 0, t.total));
    const expected = new Map<string, number>();
    for (let n = 0; n < COUNT; n++) expected.set(`k${n % KEYS}`, (expected.get(`k${n % KEYS}`) ?? TICK) + n);
    assert.deepEqual(finals, expected);
  });
});
