import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { aggregatingState, listState, mapState, reducingState, valueState } from "@keyflow/functions-sdk";
import { WindowStateStore } from "../../src/window/namespaced-state.js";

describe("state per key and window", () => {
  it("keeps every kind of state apart per key and window", () => {
    const store = new WindowStateStore();
    const handles = store.handles({
      count: valueState<number>({ defaultValue: 0 }),
      seen: listState<string>(),
      perV: mapState<string, number>(),
      max: reducingState<number>((a, b) => Math.max(a, b)),
      mean: aggregatingState<number, [number, number], number>({
        createAccumulator: () => [0, 0],
        add: (v, [sum, n]) => [sum + v, n + 1],
        getResult: ([sum, n]) => sum / n,
      }),
    });
    const write = (key: string, window: number, values: number[]) => {
      store.at(key, window);
      for (const v of values) {
        handles.count.update((handles.count.value() ?? 0) + 1);
        handles.seen.add(`${key}${v}`);
        handles.perV.put(String(v % 2), (handles.perV.get(String(v % 2)) ?? 0) + 1);
        handles.max.add(v);
        handles.mean.add(v);
      }
    };
    write("a", 0, [1, 2, 3]);
    write("a", 100, [10]);
    write("b", 0, [4, 4]);

    store.at("a", 0);
    assert.equal(handles.count.value(), 3);
    assert.deepEqual(handles.seen.get(), ["a1", "a2", "a3"]);
    assert.deepEqual(handles.perV.entries().sort(), [
      ["0", 1],
      ["1", 2],
    ]);
    assert.equal(handles.max.get(), 3);
    assert.equal(handles.mean.get(), 2);
    store.at("a", 100);
    assert.deepEqual([handles.count.value(), handles.seen.get(), handles.max.get()], [1, ["a10"], 10]);
    store.at("b", 0);
    assert.deepEqual([handles.count.value(), handles.seen.get(), handles.mean.get()], [2, ["b4", "b4"], 4]);
    store.at("b", 100);
    assert.deepEqual([handles.count.value(), handles.seen.get(), handles.max.get()], [0, [], undefined]);
    assert.equal(store.size, 3, "three (key, window) pairs hold state");
  });

  it("drops a window's state when it is cleared, and a pair whose last state was cleared", () => {
    const store = new WindowStateStore();
    const seen = store.handle("seen", listState<number>());
    const max = store.handle(
      "max",
      reducingState<number>((a, b) => Math.max(a, b)),
    );
    store.at("a", 0);
    seen.add(1);
    max.add(1);
    store.at("a", 1);
    seen.add(2);
    store.clearWindow("a", 0);
    store.at("a", 0);
    assert.deepEqual([seen.get(), max.get()], [[], undefined]);
    store.at("a", 1);
    seen.clear();
    assert.equal(store.size, 0);
  });

  it("merges reducing, aggregating and list state of merged windows into the target, target first", () => {
    const store = new WindowStateStore();
    const SUM = reducingState<number>((a, b) => a + b);
    const LIST = listState<string>();
    const AVG = aggregatingState<number, [number, number], number>({
      createAccumulator: () => [0, 0],
      add: (v, [s, n]) => [s + v, n + 1],
      getResult: ([s, n]) => s / n,
      merge: ([s1, n1], [s2, n2]) => [s1 + s2, n1 + n2],
    });
    for (const [window, v] of [
      ["w1", 1],
      ["w2", 2],
      ["w3", 6],
    ] as const) {
      store.at("k", window);
      store.handle("sum", SUM).add(v);
      store.handle("list", LIST).add(window);
      store.handle("avg", AVG).add(v);
    }
    store.at("k", "w2");
    for (const [name, descriptor] of [
      ["sum", SUM],
      ["list", LIST],
      ["avg", AVG],
    ] as const) {
      store.merge(name, descriptor, "k", "w2", ["w1", "w3"]);
    }
    assert.equal(store.handle("sum", SUM).get(), 9);
    assert.deepEqual(store.handle("list", LIST).get(), ["w2", "w1", "w3"]);
    assert.equal(store.handle("avg", AVG).get(), 3);
    assert.equal(store.size, 1, "the merged windows' state is gone");
  });

  it("refuses to merge value state, and aggregating state without merge", () => {
    const store = new WindowStateStore();
    assert.throws(() => store.merge("v", valueState<number>(), "k", 1, [2]), /value state, which cannot be merged/);
    const noMerge = aggregatingState<number, number, number>({
      createAccumulator: () => 0,
      add: (v, a) => a + v,
      getResult: (a) => a,
    });
    assert.throws(() => store.merge("a", noMerge, "k", 1, [2]), /AggregateFunction has no merge/);
  });
});
