import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type Collector,
  collectionSource,
  collectSink,
  defineJob,
  InvalidJobError,
  type JobDefinition,
} from "@keyflow/functions-sdk";
import { execute, JobFailedError } from "../../src/index.js";
import {
  type Bounds,
  describePairs,
  type Event,
  events,
  nestedLoopJoin,
  punctuated,
} from "./interval-join-reference.js";

const DISORDER = 20;
const lefts = events("L", 400, 6, DISORDER, 11);
const rights = events("R", 400, 6, DISORDER, 29);

/**
 * Both sides from their own source with per-record watermarks that allow `DISORDER` ms of
 * disorder, joined, then stamped with the timestamp each joined record carries downstream.
 */
function intervalJob(bounds: Bounds) {
  const pairs = collectSink<string>("pairs");
  const job = defineJob("interval-join", (env) => {
    const left = env.fromSource(collectionSource(lefts), "Lefts", punctuated(DISORDER)).setParallelism(1);
    const right = env.fromSource(collectionSource(rights), "Rights", punctuated(DISORDER)).setParallelism(1);
    const joined = left
      .keyBy((e) => e.key)
      .intervalJoin(right.keyBy((e) => e.key))
      .between(bounds.lower, bounds.upper);
    if (bounds.lowerExclusive === true) joined.lowerBoundExclusive();
    if (bounds.upperExclusive === true) joined.upperBoundExclusive();
    joined
      .process(describePairs())
      .process({
        processElement(pair: string, ctx, out: Collector<string>) {
          out.collect(`${pair}@${ctx.timestamp}`);
        },
      })
      .collect(pairs);
  });
  return { job, pairs };
}

/** The nested-loop pairs, each with the timestamp its joined record must carry: the later of the two. */
function expected(bounds: Bounds): string[] {
  return nestedLoopJoin(lefts, rights, bounds)
    .map((pair) => `${pair}@${pair.split("|")[2]}`)
    .sort();
}

const cases: Array<[string, Bounds]> = [
  ["inclusive bounds around zero", { lower: -7, upper: 12 }],
  ["both bounds exclusive", { lower: -7, upper: 12, lowerExclusive: true, upperExclusive: true }],
  ["only the lower bound exclusive", { lower: 0, upper: 6, lowerExclusive: true }],
  ["a negative interval (right records before the left one)", { lower: -31, upper: -5 }],
  ["a positive interval (right records after the left one)", { lower: 4, upper: 27 }],
  ["a single instant", { lower: 0, upper: 0 }],
];

describe("interval join", () => {
  for (const [name, bounds] of cases) {
    it(`emits exactly the pairs a nested loop finds, stamped with the later timestamp, with ${name}, at parallelism 1 and 4`, async () => {
      const want = expected(bounds);
      assert.ok(want.length > 10, `the data gives this case enough pairs (${want.length})`);
      for (const parallelism of [1, 4]) {
        const { job, pairs } = intervalJob(bounds);
        const result = await execute(job, { parallelism });
        assert.deepEqual(result.get(pairs).sort(), want, `parallelism ${parallelism}`);
      }
    });
  }

  it("has records out of order within the watermark bound in its test data", () => {
    // Without disorder the "out-of-order records" cases above would not test anything.
    let behind = 0;
    for (const side of [lefts, rights]) {
      let max = Number.NEGATIVE_INFINITY;
      for (const e of side) {
        if (e.ts < max) behind++;
        max = Math.max(max, e.ts);
      }
    }
    assert.ok(behind > 200, `${behind} records arrive after a later-stamped one`);
  });

  it("fails naming the operator and the record when a record has no timestamp", async () => {
    const job: JobDefinition = defineJob("no-timestamps", (env) => {
      const left = env.fromCollection<Event>([{ key: "a", ts: 1, id: "L0" }]).keyBy((e) => e.key);
      const right = env.fromCollection<Event>([{ key: "a", ts: 1, id: "R0" }]).keyBy((e) => e.key);
      left.intervalJoin(right).between(-1, 1).process(describePairs()).discard();
    });
    await assert.rejects(execute(job), (error: unknown) => {
      assert.ok(error instanceof JobFailedError, String(error));
      assert.equal(error.reason.code, "USER_FUNCTION_FAILED");
      assert.equal(error.reason.details.operator, "IntervalJoin");
      assert.match(error.reason.details.record ?? "", /"id":"[LR]0"/);
      assert.match(
        error.reason.message,
        /interval join needs event timestamps, but a record of its (left|right) input/,
      );
      return true;
    });
  });

  it("rejects a lower bound above the upper bound when the job is built", () => {
    const job = defineJob("inverted", (env) => {
      const left = env.fromCollection<Event>([]).keyBy((e) => e.key);
      left.intervalJoin(env.fromCollection<Event>([]).keyBy((e) => e.key)).between(5, 4);
    });
    assert.throws(
      () => job.build(),
      (error: unknown) =>
        error instanceof InvalidJobError &&
        error.operator === "IntervalJoin" &&
        /lower bound 5 ms is above the upper bound 4 ms/.test(error.message),
    );
  });

  it("rejects bounds that are not integer milliseconds", () => {
    const job = defineJob("fractional", (env) => {
      const left = env.fromCollection<Event>([]).keyBy((e) => e.key);
      left.intervalJoin(env.fromCollection<Event>([]).keyBy((e) => e.key)).between(0, 1.5);
    });
    assert.throws(() => job.build(), /upper bound must be an integer of ms, got 1.5/);
  });
});
