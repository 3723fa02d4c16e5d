import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  aggregatingState,
  type Key,
  listState,
  mapState,
  reducingState,
  type StateTtl,
  valueState,
} from "@keyflow/functions-sdk";
import fc from "fast-check";
import { KeyedStateBackend } from "../../src/state/keyed-state-backend.js";
import { SimulatedClock } from "../../src/time/clock.js";

function backendWith(clock = new SimulatedClock()) {
  return { backend: new KeyedStateBackend(128, clock), clock };
}

const average = aggregatingState<number, { sum: number; count: number }, number>({
  createAccumulator: () => ({ sum: 0, count: 0 }),
  add: (value, acc) => ({ sum: acc.sum + value, count: acc.count + 1 }),
  getResult: (acc) => acc.sum / acc.count,
});

describe("KeyedStateBackend handles", () => {
  it("scope a value to the current key, with the descriptor's default when the key has none", () => {
    const { backend } = backendWith();
    const { count } = backend.handles({ count: valueState<number>({ defaultValue: 0 }) });
    backend.currentKey = "a";
    assert.equal(count.value(), 0);
    count.update(5);
    backend.currentKey = "b";
    assert.equal(count.value(), 0);
    count.update(7);
    backend.currentKey = "a";
    assert.equal(count.value(), 5);
    count.clear();
    assert.equal(count.value(), 0);
    backend.currentKey = "b";
    assert.equal(count.value(), 7);
  });

  it("return undefined for a value without a default", () => {
    const { backend } = backendWith();
    const { last } = backend.handles({ last: valueState<string>() });
    backend.currentKey = "k";
    assert.equal(last.value(), undefined);
  });

  it("keep a list per key, handing out copies", () => {
    const { backend } = backendWith();
    const { items } = backend.handles({ items: listState<number>() });
    backend.currentKey = 1;
    assert.deepEqual(items.get(), []);
    items.add(1);
    items.addAll([2, 3]);
    const copy = items.get();
    copy.push(99);
    assert.deepEqual(items.get(), [1, 2, 3]);
    backend.currentKey = 2;
    items.addAll([]);
    assert.deepEqual(items.get(), []);
    items.update([9]);
    backend.currentKey = 1;
    items.update([4, 5]);
    assert.deepEqual(items.get(), [4, 5]);
    items.update([]);
    assert.deepEqual(items.get(), []);
    backend.currentKey = 2;
    assert.deepEqual(items.get(), [9]);
  });

  it("keep a map per key", () => {
    const { backend } = backendWith();
    const { seen } = backend.handles({ seen: mapState<string, number>() });
    backend.currentKey = "u1";
    assert.equal(seen.isEmpty(), true);
    seen.put("x", 1);
    seen.putAll([
      ["y", 2],
      ["z", 3],
    ]);
    seen.remove("z");
    assert.equal(seen.get("x"), 1);
    assert.equal(seen.contains("z"), false);
    assert.deepEqual(seen.entries(), [
      ["x", 1],
      ["y", 2],
    ]);
    assert.deepEqual(seen.keys(), ["x", "y"]);
    assert.deepEqual(seen.values(), [1, 2]);
    backend.currentKey = "u2";
    assert.equal(seen.get("x"), undefined);
    assert.deepEqual(seen.entries(), []);
    seen.put("x", 10);
    backend.currentKey = "u1";
    seen.clear();
    assert.equal(seen.isEmpty(), true);
    backend.currentKey = "u2";
    assert.equal(seen.get("x"), 10);
  });

  it("fold a reducing state per key", () => {
    const { backend } = backendWith();
    const { max } = backend.handles({ max: reducingState<number>((a, b) => Math.max(a, b)) });
    backend.currentKey = "a";
    assert.equal(max.get(), undefined);
    for (const x of [3, 9, 4]) max.add(x);
    backend.currentKey = "b";
    max.add(1);
    backend.currentKey = "a";
    assert.equal(max.get(), 9);
    max.clear();
    assert.equal(max.get(), undefined);
    backend.currentKey = "b";
    assert.equal(max.get(), 1);
  });

  it("aggregate per key and read the aggregate's result", () => {
    const { backend } = backendWith();
    const handles = backend.handles({ avg: average });
    backend.currentKey = "a";
    assert.equal(handles.avg.get(), undefined);
    handles.avg.add(2);
    handles.avg.add(4);
    backend.currentKey = "b";
    handles.avg.add(10);
    backend.currentKey = "a";
    assert.equal(handles.avg.get(), 3);
    backend.currentKey = "b";
    assert.equal(handles.avg.get(), 10);
  });

  it("treat equal tuple keys as one key and different tuples as different keys", () => {
    const { backend } = backendWith();
    const { count } = backend.handles({ count: valueState<number>() });
    backend.currentKey = ["room-1", 3];
    count.update(1);
    backend.currentKey = ["room-1", 3];
    assert.equal(count.value(), 1);
    backend.currentKey = ["room-1", 4];
    assert.equal(count.value(), undefined);
    backend.currentKey = "room-1";
    assert.equal(count.value(), undefined);
  });

  it("behave like one map per key for any sequence of writes over many keys", () => {
    const op = fc.record({
      key: fc.oneof(fc.nat({ max: 5 }), fc.constantFrom("a", "b", ["t", 1] as const)),
      value: fc.integer(),
      clear: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const { backend } = backendWith();
        const { sum, all } = backend.handles({
          sum: reducingState<number>((a, b) => a + b),
          all: listState<number>(),
        });
        const model = new Map<string, number[]>();
        for (const { key, value, clear } of ops) {
          backend.currentKey = key as Key;
          const id = JSON.stringify(key);
          if (clear) {
            sum.clear();
            all.clear();
            model.delete(id);
          } else {
            sum.add(value);
            all.add(value);
            model.set(id, [...(model.get(id) ?? []), value]);
          }
          const expected = model.get(id);
          assert.deepEqual(all.get(), expected ?? []);
          assert.equal(
            sum.get(),
            expected?.reduce((a, b) => a + b),
          );
        }
        assert.equal(backend.sizes().all, model.size);
      }),
      { numRuns: 200 },
    );
  });
});

describe("KeyedStateBackend state with a TTL", () => {
  const ttl = (options: Partial<StateTtl> = {}): StateTtl => ({ ttlMs: 1000, ...options });

  it("never returns a value once it expired", () => {
    const { backend, clock } = backendWith();
    const { last } = backend.handles({ last: valueState<string>({ ttl: ttl() }) });
    backend.currentKey = "k";
    last.update("x");
    clock.advance(999);
    assert.equal(last.value(), "x");
    clock.advance(1);
    assert.equal(last.value(), undefined);
  });

  it("returns the default value rather than an expired one", () => {
    const { backend, clock } = backendWith();
    const { count } = backend.handles({ count: valueState<number>({ defaultValue: 0, ttl: ttl() }) });
    backend.currentKey = "k";
    count.update(5);
    clock.advance(1000);
    assert.equal(count.value(), 0);
  });

  it("restarts the expiry on create and write only, by default", () => {
    const { backend, clock } = backendWith();
    const { last } = backend.handles({ last: valueState<string>({ ttl: ttl() }) });
    backend.currentKey = "k";
    last.update("x");
    clock.advance(600);
    assert.equal(last.value(), "x"); // a read does not extend
    clock.advance(600);
    assert.equal(last.value(), undefined);
    last.update("y");
    clock.advance(600);
    last.update("z"); // a write does
    clock.advance(600);
    assert.equal(last.value(), "z");
  });

  it("restarts the expiry on reads too with update onReadAndWrite", () => {
    const { backend, clock } = backendWith();
    const { last } = backend.handles({ last: valueState<string>({ ttl: ttl({ update: "onReadAndWrite" }) }) });
    backend.currentKey = "k";
    last.update("x");
    for (let i = 0; i < 5; i++) {
      clock.advance(600);
      assert.equal(last.value(), "x", `read ${i} kept the value alive`);
    }
    clock.advance(1000);
    assert.equal(last.value(), undefined);
  });

  it("restarts the expiry when a list or map changes in place", () => {
    const { backend, clock } = backendWith();
    const { items, seen } = backend.handles({
      items: listState<number>({ ttl: ttl() }),
      seen: mapState<string, number>({ ttl: ttl() }),
    });
    backend.currentKey = "k";
    items.add(1);
    seen.put("a", 1);
    clock.advance(600);
    items.add(2);
    seen.put("b", 2);
    clock.advance(600);
    assert.deepEqual(items.get(), [1, 2]);
    assert.deepEqual(seen.keys(), ["a", "b"]);
    clock.advance(1000);
    assert.deepEqual(items.get(), []);
    assert.equal(seen.isEmpty(), true);
  });

  it("may return an expired value that was not cleaned up with returnExpiredIfNotCleanedUp", () => {
    const { backend, clock } = backendWith();
    const { last } = backend.handles({
      last: valueState<string>({ ttl: ttl({ visibility: "returnExpiredIfNotCleanedUp" }) }),
    });
    backend.currentKey = "k";
    last.update("x");
    clock.advance(5000);
    assert.equal(last.value(), "x");
  });

  it("expires reducing and aggregating state alike", () => {
    const { backend, clock } = backendWith();
    const handles = backend.handles({
      total: reducingState<number>((a, b) => a + b, { ttl: ttl() }),
      avg: aggregatingState(
        {
          createAccumulator: () => [0, 0] as [number, number],
          add: (v: number, [s, n]: [number, number]) => [s + v, n + 1] as [number, number],
          getResult: ([s, n]: [number, number]) => s / n,
        },
        { ttl: ttl() },
      ),
    });
    backend.currentKey = "k";
    handles.total.add(3);
    handles.avg.add(3);
    clock.advance(1000);
    handles.total.add(4);
    handles.avg.add(5);
    assert.equal(handles.total.get(), 4, "the expired sum does not count");
    assert.equal(handles.avg.get(), 5, "the expired accumulator does not count");
  });

  it("sweeps expired keys as new keys are written, so keys never touched again do not leak", () => {
    const { backend, clock } = backendWith();
    const { last } = backend.handles({ last: valueState<number>({ ttl: ttl() }) });
    for (let i = 0; i < 10_000; i++) {
      backend.currentKey = `old-${i}`;
      last.update(i);
    }
    assert.equal(backend.sizes().last, 10_000);
    clock.advance(2000);
    for (let i = 0; i < 5000; i++) {
      backend.currentKey = `new-${i}`;
      last.update(i);
    }
    const size = backend.sizes().last as number;
    assert.ok(size < 10_000, `the table still holds ${size} entries: expired keys were not swept`);
    for (let i = 5000; i < 10_000; i++) {
      backend.currentKey = `new-${i}`;
      last.update(i);
    }
    assert.equal(backend.sizes().last, 10_000, "only the live keys are left once the sweep went round");
  });

  it("rejects a TTL that is not a positive duration", () => {
    assert.throws(() => valueState({ ttl: { ttlMs: 0 } }), RangeError);
    assert.throws(() => listState({ ttl: { ttlMs: -5 } }), RangeError);
  });
});

describe("KeyedStateBackend.prefetch", () => {
  it("loads the home slot of each number key in every table: all occupied for keys with state, none in an empty table", () => {
    const { backend } = backendWith();
    const { count, sum } = backend.handles({ count: valueState<number>(), sum: valueState<number>() });
    const keys: Key[] = Array.from({ length: 500 }, (_, i) => i * 13);
    backend.prefetch(keys, keys.length);
    assert.equal(backend.prefetchedOccupied, 0, "empty tables");
    for (const key of keys) {
      backend.currentKey = key;
      count.update(1);
      sum.update(2);
    }
    backend.prefetch(keys, keys.length);
    assert.equal(
      backend.prefetchedOccupied,
      2 * keys.length,
      "each key's probe starts at an occupied slot, in both tables",
    );
    backend.prefetch(["a", ["t", 1]], 2);
    assert.equal(backend.prefetchedOccupied, 0, "keys that are not numbers are not in the slots");
    backend.prefetch(keys, 10);
    assert.equal(backend.prefetchedOccupied, 20, "only the first `count` keys");
  });
});
