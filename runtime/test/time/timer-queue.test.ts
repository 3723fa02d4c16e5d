import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { type InternalTimer, TimerQueue } from "../../src/time/timer-queue.js";

const timer = (key: unknown, namespace: number, timestamp: number): InternalTimer<number> => ({
  key,
  namespace,
  timestamp,
  keyGroup: 0,
});

function drain(queue: TimerQueue<number>, upTo: number): Array<[unknown, number, number]> {
  const fired: Array<[unknown, number, number]> = [];
  for (let t = queue.pollDue(upTo); t !== undefined; t = queue.pollDue(upTo))
    fired.push([t.key, t.namespace, t.timestamp]);
  return fired;
}

describe("TimerQueue", () => {
  it("keeps one timer per key, namespace and timestamp", () => {
    const queue = new TimerQueue<number>((n) => n);
    assert.equal(queue.add("a", timer("a", 0, 10)), true);
    assert.equal(queue.add("a", timer("a", 0, 10)), false);
    assert.equal(queue.add("a", timer("a", 1, 10)), true);
    assert.equal(queue.add("b", timer("b", 0, 10)), true);
    assert.equal(queue.size, 3);
  });

  it("tells the number key 1 from the string key '1'", () => {
    const queue = new TimerQueue<number>((n) => n);
    queue.add(1, timer(1, 0, 5));
    queue.add("1", timer("1", 0, 5));
    assert.equal(queue.size, 2);
  });

  it("fires due timers in timestamp order, and those of one timestamp in registration order", () => {
    const queue = new TimerQueue<number>((n) => n);
    queue.add("b", timer("b", 0, 20));
    queue.add("a", timer("a", 0, 10));
    queue.add("c", timer("c", 0, 20));
    queue.add("a", timer("a", 0, 30));
    assert.deepEqual(drain(queue, 20), [
      ["a", 0, 10],
      ["b", 0, 20],
      ["c", 0, 20],
    ]);
    assert.equal(queue.peekTime(), 30);
    assert.equal(queue.size, 1);
  });

  it("does not fire a removed timer, and forgets a timestamp whose timers are all removed", () => {
    const queue = new TimerQueue<number>((n) => n);
    queue.add("a", timer("a", 0, 10));
    queue.add("a", timer("a", 1, 10));
    assert.equal(queue.remove("a", 0, 10), true);
    assert.equal(queue.remove("a", 0, 10), false);
    assert.deepEqual(drain(queue, 10), [["a", 1, 10]]);
    queue.add("x", timer("x", 0, 5));
    queue.remove("x", 0, 5);
    assert.equal(queue.peekTime(), undefined);
    assert.equal(queue.size, 0);
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
            assert.equal(queue.add(step.key, timer(step.key, step.ns, step.ts)), !exists);
            if (!exists) model.push({ key: step.key, ns: step.ns, ts: step.ts });
          } else if (step.op === "remove") {
            const before = model.length;
            model = model.filter((t) => !(t.key === step.key && t.ns === step.ns && t.ts === step.ts));
            assert.equal(queue.remove(step.key, step.ns, step.ts), model.length < before);
          } else {
            const due = model.filter((t) => t.ts <= step.upTo);
            // Stable sort by timestamp keeps registration order per timestamp... except that the
            // queue orders a timestamp's timers by key first registered, then namespace: mirror that.
            const expected = orderLikeQueue(due);
            model = model.filter((t) => t.ts > step.upTo);
            assert.deepEqual(
              drain(queue, step.upTo),
              expected.map((t) => [t.key, t.ns, t.ts]),
            );
          }
          assert.equal(queue.size, model.length);
        }
      }),
    );
  });
});

/**
 * Within one timestamp the queue keeps a Map by key (insertion order of the key's first live
 * timer there) and, per key, namespaces in registration order.
 */
function orderLikeQueue<T extends { key: number; ts: number }>(timers: T[]): T[] {
  const byTs = new Map<number, Map<number, T[]>>();
  for (const t of timers) {
    let keys = byTs.get(t.ts);
    if (keys === undefined) byTs.set(t.ts, (keys = new Map()));
    const list = keys.get(t.key);
    if (list === undefined) keys.set(t.key, [t]);
    else list.push(t);
  }
  const out: T[] = [];
  for (const ts of [...byTs.keys()].sort((a, b) => a - b)) {
    for (const list of (byTs.get(ts) as Map<number, T[]>).values()) out.push(...list);
  }
  return out;
}
