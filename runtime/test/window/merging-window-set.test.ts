import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mergeTimeWindows, TimeWindow } from "@keyflow/functions-sdk";
import { MergingWindowSet } from "../../src/window/merging-window-set.js";

interface Merge {
  readonly result: string;
  readonly merged: string[];
  readonly stateResult: string;
  readonly mergedState: string[];
}

function setUp() {
  const set = new MergingWindowSet<TimeWindow>(mergeTimeWindows, (w) => `${w.start}:${w.end}`);
  const merges: Merge[] = [];
  const add = (start: number, end: number): string =>
    String(
      set.addWindow(new TimeWindow(start, end), (result, merged, stateResult, mergedState) =>
        merges.push({
          result: String(result),
          merged: merged.map(String),
          stateResult: String(stateResult),
          mergedState: mergedState.map(String),
        }),
      ),
    );
  return { set, merges, add };
}

describe("the merging window set of a key", () => {
  it("adds a window that overlaps nothing as its own state window", () => {
    const { set, merges, add } = setUp();
    assert.equal(add(0, 10), "TimeWindow[0, 10)");
    assert.equal(add(20, 30), "TimeWindow[20, 30)");
    assert.deepEqual(merges, []);
    assert.equal(set.size, 2);
    assert.equal(String(set.stateWindowOf(new TimeWindow(20, 30))), "TimeWindow[20, 30)");
  });

  it("keeps the first window's state window when a new window extends it, so its contents stay put", () => {
    const { set, merges, add } = setUp();
    add(0, 10);
    assert.equal(add(5, 15), "TimeWindow[0, 15)");
    assert.deepEqual(merges, [
      { result: "TimeWindow[0, 15)", merged: ["TimeWindow[0, 10)"], stateResult: "TimeWindow[0, 10)", mergedState: [] },
    ]);
    assert.equal(set.size, 1);
    assert.equal(String(set.stateWindowOf(new TimeWindow(0, 15))), "TimeWindow[0, 10)");
    assert.equal(set.stateWindowOf(new TimeWindow(0, 10)), undefined, "the merged-away window is gone");
  });

  it("merges two sessions a new window bridges, moving only the second one's contents", () => {
    const { set, merges, add } = setUp();
    add(0, 10);
    add(20, 30);
    assert.equal(add(10, 20), "TimeWindow[0, 30)");
    assert.deepEqual(merges, [
      {
        result: "TimeWindow[0, 30)",
        merged: ["TimeWindow[0, 10)", "TimeWindow[20, 30)"],
        stateResult: "TimeWindow[0, 10)",
        mergedState: ["TimeWindow[20, 30)"],
      },
    ]);
    assert.equal(set.size, 1);
  });

  it("does not merge a window into itself when the new window lies inside an in-flight one", () => {
    const { set, merges, add } = setUp();
    add(0, 30);
    assert.equal(add(5, 10), "TimeWindow[0, 30)");
    assert.equal(add(0, 30), "TimeWindow[0, 30)");
    assert.deepEqual(merges, []);
    assert.equal(set.size, 1);
  });

  it("forgets a retired window", () => {
    const { set, add } = setUp();
    add(0, 10);
    set.retire(new TimeWindow(0, 10));
    assert.equal(set.size, 0);
    assert.equal(set.stateWindowOf(new TimeWindow(0, 10)), undefined);
  });
});
