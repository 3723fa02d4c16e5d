import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defineJob, type RuntimeContext } from "@keyflow/functions-sdk";
import { execute, JobFailedError } from "../../src/index.js";

interface Lifecycle {
  readonly opened: RuntimeContext[];
  readonly closed: Array<{ operator: string; shard: number; records: number }>;
}

/** A rich map that records its `open` context and, at `close`, how many records its instance saw. */
class Recording {
  private context: RuntimeContext | undefined;
  private records = 0;
  constructor(private readonly log: Lifecycle) {}
  open(context: RuntimeContext): void {
    assert.equal(this.context, undefined, "open runs once per instance");
    this.context = context;
    this.log.opened.push(context);
  }
  map(x: number): number {
    assert.ok(this.context !== undefined, "open ran before the first record");
    this.records++;
    return x;
  }
  close(): void {
    this.log.closed.push({
      operator: this.context?.operatorName ?? "?",
      shard: this.context?.shardIndex ?? -1,
      records: this.records,
    });
  }
}

describe("rich functions", () => {
  it("open once per shard with that shard's index, parallelism, operator, job and max parallelism, and close once", async () => {
    const log: Lifecycle = { opened: [], closed: [] };
    const job = defineJob("lifecycle", (env) => {
      env.setMaxParallelism(64);
      env
        .generate({ count: 900, make: (i) => i })
        .setParallelism(3)
        .map(new Recording(log))
        .name("Chained")
        .uid("chained-uid")
        .setParallelism(3)
        .rebalance()
        .map(new Recording(log))
        .name("Apart")
        .setParallelism(2)
        .discard();
    });
    await execute(job);
    const opened = log.opened
      .map((c) => [c.jobName, c.operatorName, c.operatorUid, c.shardIndex, c.parallelism, c.maxParallelism])
      .sort();
    assert.deepEqual(opened, [
      ["lifecycle", "Apart", "map-2", 0, 2, 64],
      ["lifecycle", "Apart", "map-2", 1, 2, 64],
      ["lifecycle", "Chained", "chained-uid", 0, 3, 64],
      ["lifecycle", "Chained", "chained-uid", 1, 3, 64],
      ["lifecycle", "Chained", "chained-uid", 2, 3, 64],
    ]);
    const closed = [...log.closed].sort((a, b) => a.operator.localeCompare(b.operator) || a.shard - b.shard);
    assert.deepEqual(
      closed.map((c) => [c.operator, c.shard]),
      [
        ["Apart", 0],
        ["Apart", 1],
        ["Chained", 0],
        ["Chained", 1],
        ["Chained", 2],
      ],
    );
    assert.deepEqual(
      closed.filter((c) => c.operator === "Chained").map((c) => c.records),
      [300, 300, 300],
      "each shard's own instance saw its own records",
    );
    assert.equal(
      closed.filter((c) => c.operator === "Apart").reduce((n, c) => n + c.records, 0),
      900,
    );
  });

  it("wait for an asynchronous open before the first record", async () => {
    const events: string[] = [];
    const job = defineJob("async-open", (env) => {
      env
        .fromCollection([1, 2])
        .map({
          async open() {
            await new Promise((resolve) => setTimeout(resolve, 20));
            events.push("opened");
          },
          map(x: number) {
            events.push(`record ${x}`);
            return x;
          },
        })
        .discard();
    });
    await execute(job);
    assert.deepEqual(events, ["opened", "record 1", "record 2"]);
  });

  it("fail the job naming the operator and shard when open throws, and still close", async () => {
    const closed: number[] = [];
    const job = defineJob("open-fails", (env) => {
      env
        .fromCollection([1])
        .map({
          open(context: RuntimeContext) {
            if (context.shardIndex === 1) throw new Error("no connection");
          },
          map: (x: number) => x,
        })
        .name("Connect")
        .setParallelism(2)
        .map({
          map: (x: number) => x,
          close() {
            closed.push(1);
          },
        })
        .setParallelism(2)
        .discard();
    });
    await assert.rejects(execute(job), (error: unknown) => {
      assert.ok(error instanceof JobFailedError);
      assert.equal(error.reason.code, "USER_FUNCTION_FAILED");
      assert.equal(error.reason.details.operator, "Connect");
      assert.equal(error.reason.details.shard, "Connect#1");
      assert.match(error.reason.message, /no connection/);
      return true;
    });
    assert.ok(closed.length >= 1, "the failed shard closed its other operators");
  });
});
