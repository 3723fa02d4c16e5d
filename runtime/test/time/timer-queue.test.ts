import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { type InternalTimer, TimerQueue } from "../../src/time/timer-queue.js";

const timer = (key: string, namespace: number, timestamp: number): InternalTimer<number> => ({
  key,
  namespace,
  timestamp,
  keyGroup: 0,
});
const label = (t: InternalTimer<number> | undefined): string =>
  t === undefined ? "none" : `${t.key}/${t.namespace}@${t.timestamp}`;

function drain(
  queue: TimerQueue<number>,
  time: number,
  onTimer: (t: InternalTimer<number>) => void = () => {},
): string[] {
  const fired: string[] = [];
  for (let t = queue.pollDue(time); t !== undefined; t = queue.pollDue(time)) {
    fired.push(label(t));
    onTimer(t);
  }
  return fired;
}

describe("the timer queue", () => {
  it("fires due timers in timestamp order, and in registration order within a timestamp", () => {
    const queue = new TimerQueue<number>((n) => n);
    for (const [key, ns, ts] of [
      ["b", 0, 20],
      ["a", 0, 10],
      ["c", 0, 20],
      ["a", 1, 20],
      ["a", 0, 20],
      ["d", 0, 30],
    ] as const)
      queue.add(key, timer(key, ns, ts));
    assert.deepEqual(drain(queue, 20), ["a/0@10", "b/0@20", "c/0@20", "a/1@20", "a/0@20"]);
    assert.equal(queue.size, 1);
    assert.equal(queue.peekTime(), 30);
  });

  it("does not fire a timer that an earlier timer's callback removed, and fires one it added at the same time", () => {
    const queue = new TimerQueue<number>((n) => n);
    for (const key of ["a", "b", "c"]) queue.add(key, timer(key, 0, 10));
    const fired = drain(queue, 10, (t) => {
      if (t.key === "a") {
        queue.remove("b", 0, 10);
        queue.add("e", timer("e", 0, 10));
        queue.add("f", timer("f", 0, 5));
      }
    });
    assert.deepEqual(fired, ["a/0@10", "f/0@5", "c/0@10", "e/0@10"]);
    assert.equal(queue.size, 0);
  });

  it("fires every timer of a key with timers in several namespaces at one time", () => {
    const queue = new TimerQueue<number>((n) => n);
    queue.add("a", timer("a", 1, 10));
    queue.add("a", timer("a", 2, 10));
    queue.add("a", timer("a", 3, 10));
    queue.add("b", timer("b", 1, 10));
    const fired = drain(queue, 10, (t) => {
      if (t.namespace === 1 && t.key === "a") queue.remove("a", 2, 10);
    });
    assert.deepEqual(fired, ["a/1@10", "a/3@10", "b/1@10"]);
    assert.equal(queue.size, 0);
  });

  it("drains a timestamp shared by many keys in time linear in their number", () => {
    // Taking the first entry afresh each time steps over every entry already taken: quadratic.
    const drainMs = (keys: number): number => {
      const queue = new TimerQueue<number>((n) => n);
      for (let i = 0; i < keys; i++) queue.add(i, { key: i, namespace: 0, timestamp: 99, keyGroup: 0 });
      // CPU time of this process, not wall time: other processes on a shared machine do not count.
      const started = process.cpuUsage();
      let n = 0;
      while (queue.pollDue(99) !== undefined) n++;
      assert.equal(n, keys);
      const used = process.cpuUsage(started);
      return (used.user + used.system) / 1000;
    };
    drainMs(20_000); // warm up
    // Best of five each: only the growth matters (quadratic would be about 100x).
    const best = (keys: number) => Math.min(...Array.from({ length: 5 }, () => drainMs(keys)));
    const small = best(20_000);
    const large = best(200_000);
    assert.ok(large < small * 40, `10x the keys took ${(large / small).toFixed(1)}x the time`);
  });
});

describe("the timer queue against a model", () => {
  const modelTimer = (key: unknown, namespace: number, timestamp: number): InternalTimer<number> => ({
    key,
    namespace,
    timestamp,
    keyGroup: 0,
  });
  const drainAll = (queue: TimerQueue<number>, upTo: number): Array<[unknown, number, number]> => {
    const fired: Array<[unknown, number, number]> = [];
    for (let t = queue.pollDue(upTo); t !== undefined; t = queue.pollDue(upTo))
      fired.push([t.key, t.namespace, t.timestamp]);
    return fired;
  };

  it("tells the number key 1 from the string key '1'", () => {
    const queue = new TimerQueue<number>((n) => n);
    queue.add(1, modelTimer(1, 0, 5));
    queue.add("1", modelTimer("1", 0, 5));
    assert.equal(queue.size, 2);
  });

  it("behaves like a sorted list of unique timers under any sequence of adds, removes and polls", () => {
    type Op =
      | { op: "add"; key: number; ns: number; ts: number }
      | { op: "remove"; key: number; ns: number; ts: number }
      | { op: "poll"; upTo: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ op: fc.constant("add" as const), key: fc.nat(4), ns: fc.nat(2), ts: fc.nat(20) }),
      fc.record({ op: fc.constant("remove" as const), key: fc.nat(4), ns: fc.nat(2), ts: fc.nat(20) }),
      fc.record({ op: fc.constant("poll" as const), upTo: fc.nat(20) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        const queue = new TimerQueue<number>((n) => n);
        // The model: timers in registration order; polls take the smallest timestamp, earliest registered.
        let model: Array<{ key: number; ns: number; ts: number }> = [];
        for (const step of ops) {
          if (step.op === "add") {
            const exists = model.some((t) => t.key === step.key && t.ns === step.ns && t.ts === step.ts);
            assert.equal(queue.add(step.key, modelTimer(step.key, step.ns, step.ts)), !exists);
            if (!exists) model.push({ key: step.key, ns: step.ns, ts: step.ts });
          } else if (step.op === "remove") {
            const before = model.length;
            model = model.filter((t) => !(t.key === step.key && t.ns === step.ns && t.ts === step.ts));
            assert.equal(queue.remove(step.key, step.ns, step.ts), model.length < before);
          } else {
            const due = model.filter((t) => t.ts <= step.upTo);
            const expected = orderLikeQueue(due);
            model = model.filter((t) => t.ts > step.upTo);
            assert.deepEqual(
              drainAll(queue, step.upTo),
              expected.map((t) => [t.key, t.ns, t.ts]),
            );
          }
          assert.equal(queue.size, model.length);
        }
      }),
    );
  });
});

/** Due timers in firing order: by timestamp, then in registration order (the model keeps them in that order). */
function orderLikeQueue<T extends { ts: number }>(timers: T[]): T[] {
  return [...timers].sort((a, b) => a.ts - b.ts);
}
