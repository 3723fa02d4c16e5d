import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Collector, defineJob, outputTag, type ProcessJoinFunction, SeededRandom } from "@keyflow/functions-sdk";
import { type Bounds, describePairs, type Event, events, nestedLoopJoin, pairOf } from "./interval-join-reference.js";
import { TwoInputHarness } from "./two-input-harness.js";

const leftLate = outputTag<Event>("left-late");
const rightLate = outputTag<Event>("right-late");

/** The join operator of a job joining Event streams with `bounds`, opened in a harness. */
async function harness(
  bounds: Bounds,
  fn: ProcessJoinFunction<Event, Event, string> = describePairs(),
): Promise<TwoInputHarness> {
  const job = defineJob("harness", (env) => {
    const left = env.fromCollection<Event>([]).keyBy((e) => e.key);
    const right = env.fromCollection<Event>([]).keyBy((e) => e.key);
    const joined = left
      .intervalJoin(right)
      .between(bounds.lower, bounds.upper)
      .sideOutputLeftLateData(leftLate)
      .sideOutputRightLateData(rightLate);
    if (bounds.lowerExclusive === true) joined.lowerBoundExclusive();
    if (bounds.upperExclusive === true) joined.upperBoundExclusive();
    joined.process(fn).discard();
  });
  return TwoInputHarness.open(job, "IntervalJoin");
}

const ev = (id: string, ts: number, key = "k"): Event => ({ key, ts, id });

/** The timestamps buffered for `key` on one side. */
function bufferedTimes(h: TwoInputHarness, side: "left" | "right", key = "k"): number[] {
  return h.buffered(side, key).map(([ts]) => ts as number);
}

describe("interval join operator", () => {
  it("keeps a left record until the watermark reaches t + upper and a right one until t − lower", async () => {
    const h = await harness({ lower: -5, upper: 10 });
    h.left(ev("L", 100), 100).right(ev("R", 100), 100);
    h.watermark(104);
    assert.deepEqual([bufferedTimes(h, "left"), bufferedTimes(h, "right")], [[100], [100]]);
    // A left record at 105 is on time and may still meet R at 100 (100 ≥ 105 − 5).
    h.left(ev("L105", 105), 105);
    h.watermark(105);
    assert.deepEqual(bufferedTimes(h, "right"), [], "R at 100 can meet no left record from 106 on");
    assert.deepEqual(bufferedTimes(h, "left"), [100, 105]);
    // A right record at 110 is on time and still meets L at 100 (110 ≤ 100 + 10).
    h.right(ev("R110", 110), 110);
    h.watermark(109);
    assert.deepEqual(bufferedTimes(h, "left"), [100, 105]);
    h.watermark(110);
    assert.deepEqual(bufferedTimes(h, "left"), [105]);
    assert.deepEqual(
      h.main().map(([pair]) => pair),
      [pairOf("L", "R", 100), pairOf("L105", "R", 105), pairOf("L", "R110", 110), pairOf("L105", "R110", 110)],
    );
    await h.end();
    assert.deepEqual(h.keysWithState(), { left: 0, right: 0 }, "nothing is buffered after the end of input");
    assert.equal(h.eventTimers, 0);
  });

  it("keeps a record until the watermark reaches its own time when the interval lies wholly on the other side", async () => {
    const after = await harness({ lower: 3, upper: 8 });
    after.left(ev("L", 100), 100).right(ev("R", 100), 100);
    after.watermark(100);
    assert.deepEqual([bufferedTimes(after, "left"), bufferedTimes(after, "right")], [[100], []]);
    after.watermark(108);
    assert.deepEqual(bufferedTimes(after, "left"), []);

    const before = await harness({ lower: -8, upper: -3 });
    before.left(ev("L", 100), 100).right(ev("R", 100), 100);
    before.watermark(100);
    assert.deepEqual([bufferedTimes(before, "left"), bufferedTimes(before, "right")], [[], [100]]);
    before.watermark(107);
    assert.deepEqual(bufferedTimes(before, "right"), [100]);
    before.watermark(108);
    assert.deepEqual(bufferedTimes(before, "right"), []);
  });

  it("cleans both sides with one timer when their cleanup times coincide", async () => {
    const h = await harness({ lower: -5, upper: 5 });
    h.left(ev("L", 100), 100).right(ev("R", 100), 100);
    assert.equal(h.eventTimers, 1, "both records are due at 105, and a key has one timer per time");
    h.watermark(105);
    assert.deepEqual(h.keysWithState(), { left: 0, right: 0 });
    assert.equal(h.eventTimers, 0);
  });

  it("drops a record behind the watermark without joining or buffering it, sending it to its side's late output", async () => {
    const h = await harness({ lower: -50, upper: 50 });
    h.left(ev("L", 100), 100).right(ev("R", 100), 100);
    h.watermark(99);
    h.left(ev("late-L", 98), 98).right(ev("late-R", 97), 97);
    h.left(ev("on-time-L", 99), 99);
    assert.deepEqual(bufferedTimes(h, "left"), [99, 100]);
    assert.deepEqual(bufferedTimes(h, "right"), [100]);
    assert.deepEqual(
      h.emitted.map((e) => [e.side, e.side === undefined ? e.value : (e.value as Event).id, e.timestamp]),
      [
        [undefined, pairOf("L", "R", 100), 100],
        ["left-late", "late-L", 98],
        ["right-late", "late-R", 97],
        [undefined, pairOf("on-time-L", "R", 100), 100],
      ],
    );
  });

  it("gives the pair's timestamp, the later one, to what it emits and to its side outputs", async () => {
    const notes = outputTag<string>("notes");
    const h = await harness(
      { lower: -10, upper: 10 },
      {
        processElement(left, right, ctx, out: Collector<string>) {
          out.collect(`${left.id}+${right.id}`);
          ctx.output(notes, `${ctx.leftTimestamp}/${ctx.rightTimestamp}`);
        },
      },
    );
    h.left(ev("L", 100), 100).right(ev("R", 93), 93).right(ev("R2", 107), 107).left(ev("L2", 95), 95);
    assert.deepEqual(
      h.emitted.map((e) => [e.side, e.value, e.timestamp]),
      [
        [undefined, "L+R", 100],
        ["notes", "100/93", 100],
        [undefined, "L+R2", 107],
        ["notes", "100/107", 107],
        [undefined, "L2+R", 95],
        ["notes", "95/93", 95],
      ],
    );
  });

  it("opens and closes a rich join function with the operator's runtime context", async () => {
    const calls: string[] = [];
    const h = await harness(
      { lower: 0, upper: 0 },
      {
        open(context) {
          calls.push(`open ${context.operatorName}#${context.shardIndex}`);
        },
        processElement(left, right, _ctx, out: Collector<string>) {
          calls.push("pair");
          out.collect(`${left.id}+${right.id}`);
        },
        close() {
          calls.push("close");
        },
      },
    );
    h.left(ev("L", 5), 5).right(ev("R", 5), 5);
    await h.end();
    assert.deepEqual(calls, ["open IntervalJoin#0", "pair", "close"]);
  });

  for (const [name, bounds] of [
    ["inclusive bounds", { lower: -6, upper: 9 }],
    ["exclusive bounds", { lower: -6, upper: 9, lowerExclusive: true, upperExclusive: true }],
    ["a negative interval", { lower: -20, upper: -4 }],
    ["a positive interval", { lower: 2, upper: 17 }],
  ] as Array<[string, Bounds]>) {
    it(`joins the same pairs as a nested loop whatever order both sides arrive in, and buffers only what may still join, with ${name}`, async () => {
      for (let seed = 1; seed <= 20; seed++) await checkInterleaving(bounds, seed);
    });
  }
});

/**
 * Feeds both sides' records and watermarks as two channels would deliver them, interleaved at
 * random: each side's watermark trails its largest timestamp by the disorder bound, and the
 * operator sees the minimum over the two, as the shard's watermark valve gives it. After each
 * watermark the buffers must hold exactly the records Flink keeps: a left record at t while the
 * watermark is below t + max(upper, 0), a right one while it is below t + max(−lower, 0).
 */
async function checkInterleaving(bounds: Bounds, seed: number): Promise<void> {
  const disorder = 12;
  const lefts = events("L", 120, 3, disorder, seed * 2);
  const rights = events("R", 120, 3, disorder, seed * 2 + 1);
  const h = await harness(bounds);
  const random = new SeededRandom(seed);
  const lower = bounds.lowerExclusive === true ? bounds.lower + 1 : bounds.lower;
  const upper = bounds.upperExclusive === true ? bounds.upper - 1 : bounds.upper;
  const next = [0, 0];
  const max = [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY];
  const sideWatermark = [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY];
  const pendingWatermark = [false, false];
  let watermark = Number.NEGATIVE_INFINITY;
  const sides = [lefts, rights];
  while (next[0] < lefts.length || next[1] < rights.length || pendingWatermark[0] || pendingWatermark[1]) {
    const side =
      next[0] >= lefts.length && !pendingWatermark[0]
        ? 1
        : next[1] >= rights.length && !pendingWatermark[1]
          ? 0
          : random.nextInt(2);
    if (pendingWatermark[side]) {
      // The watermark the source emitted after its last record reaches the operator.
      pendingWatermark[side] = false;
      sideWatermark[side] = (max[side] as number) - disorder - 1;
      const combined = Math.min(sideWatermark[0] as number, sideWatermark[1] as number);
      if (combined > watermark) {
        watermark = combined;
        h.watermark(watermark);
        assertBuffers(h, lefts.slice(0, next[0]), rights.slice(0, next[1]), watermark, lower, upper);
      }
      continue;
    }
    const event = (sides[side] as Event[])[next[side] as number] as Event;
    next[side] = (next[side] as number) + 1;
    max[side] = Math.max(max[side] as number, event.ts);
    if (side === 0) h.left(event, event.ts);
    else h.right(event, event.ts);
    pendingWatermark[side] = true;
  }
  const joined = h.main().map(([pair]) => pair as string);
  assert.deepEqual(joined.slice().sort(), nestedLoopJoin(lefts, rights, bounds), `seed ${seed}`);
  assert.equal(new Set(joined).size, joined.length, "each pair is emitted once");
  await h.end();
  assert.deepEqual(h.keysWithState(), { left: 0, right: 0 }, `seed ${seed}: nothing left after the end of input`);
  assert.equal(h.eventTimers, 0);
}

function assertBuffers(
  h: TwoInputHarness,
  leftsSeen: readonly Event[],
  rightsSeen: readonly Event[],
  watermark: number,
  lower: number,
  upper: number,
): void {
  for (const key of ["k0", "k1", "k2"]) {
    const keep = (events: readonly Event[], extra: number) =>
      [...new Set(events.filter((e) => e.key === key && watermark < e.ts + Math.max(extra, 0)).map((e) => e.ts))].sort(
        (a, b) => a - b,
      );
    assert.deepEqual(bufferedTimes(h, "left", key), keep(leftsSeen, upper), `left buffer of ${key} at ${watermark}`);
    assert.deepEqual(
      bufferedTimes(h, "right", key),
      keep(rightsSeen, -lower),
      `right buffer of ${key} at ${watermark}`,
    );
  }
}
