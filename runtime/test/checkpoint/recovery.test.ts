import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { collectSink, defineJob } from "@keyflow/functions-sdk";
import { execute, JobFailedError, MemoryCheckpointStorage } from "../../src/index.js";

const COUNT = 200_000;

/** A map that throws once, the first time it meets `poison` (the flag outlives the restart, as a transient fault would). */
function failingOnce(poison: number) {
  let failed = false;
  return (i: number) => {
    if (i === poison && !failed) {
      failed = true;
      throw new Error(`transient fault at ${i}`);
    }
    return i;
  };
}

describe("recovery from the latest completed checkpoint", () => {
  it("restarts a failed job where its checkpoint cut it: every record once in the collected result", async () => {
    const out = collectSink<number>("out");
    const fail = failingOnce(150_001);
    const job = defineJob("recovering", (env) => {
      env
        .generate({ count: COUNT, make: (i) => i })
        .setParallelism(2)
        .map(fail)
        .setParallelism(2)
        .rebalance()
        .map((i) => i)
        .setParallelism(3)
        .collect(out);
    });
    const log: string[] = [];
    const storage = new MemoryCheckpointStorage();
    const result = await execute(job, {
      workers: 0,
      batchSize: 100,
      checkpoints: { intervalMs: 2, storage },
      restartStrategy: { kind: "fixedDelay", attempts: 2, delayMs: 0 },
      log: (line) => log.push(line),
    });
    const restarts = log.filter((line) => line.startsWith("job failed"));
    assert.equal(restarts.length, 1, log.join("\n"));
    assert.match(restarts[0] ?? "", /transient fault at 150001.*restarting in 0 ms from checkpoint \d+/);
    const values = result.get(out);
    assert.equal(values.length, COUNT, "nothing lost, nothing doubled");
    assert.deepEqual(
      [...values].sort((a, b) => a - b),
      Array.from({ length: COUNT }, (_, i) => i),
    );
    assert.ok((await storage.latestCompleted()) !== undefined);
  });

  it("gives up when the restart strategy says so, naming why", async () => {
    const job = defineJob("giving up", (env) => {
      env
        .generate({ count: 1_000, make: (i) => i })
        .map((i) => {
          if (i === 500) throw new Error("always broken");
          return i;
        })
        .collect(collectSink<number>("none"));
    });
    await assert.rejects(
      execute(job, {
        workers: 0,
        checkpoints: { intervalMs: 5 },
        restartStrategy: { kind: "fixedDelay", attempts: 2, delayMs: 0 },
      }),
      (error: unknown) => {
        assert.ok(error instanceof JobFailedError);
        assert.equal(error.reason.code, "USER_FUNCTION_FAILED");
        assert.match(
          error.message,
          /always broken \(not restarted: it failed 3 times; the strategy allows 2 restarts\)/,
        );
        return true;
      },
    );
  });
});
