import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { windowsBenchmark } from "../../src/bench/windows.js";
import { makeWindowEvent, plainLoop, ResultCheck, SLIDE_MS, WINDOW_MS } from "../../src/bench/windows-job.js";

describe("the windows benchmark", () => {
  it("counts each key's events in every sliding window it covers, in the plain loop", () => {
    const records = 5_000;
    const check = new ResultCheck();
    plainLoop(records, check);
    // By brute force: every window [start, start + 10 s) with a slide-aligned start that holds an event.
    const counts = new Map<string, number>();
    for (let i = 0; i < records; i++) {
      const { key, ts } = makeWindowEvent(i);
      for (let start = Math.floor(ts / SLIDE_MS) * SLIDE_MS; start > ts - WINDOW_MS; start -= SLIDE_MS) {
        const id = `${key}@${start + WINDOW_MS}`;
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
    }
    assert.equal(check.results, counts.size);
    const sampled = [...counts].filter(([id]) => (id.split("@")[0] as string).length <= 6);
    assert.deepEqual(check.sample(), Object.fromEntries(sampled.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
    assert.ok(sampled.length > 0);
  });

  it("runs on 50,000 records and reports rates, their ratio and heap, with Keyflow's counts equal to the loop's", async () => {
    // windowsBenchmark throws when Keyflow's result count or any sampled count differs from the loop's.
    const figures = await windowsBenchmark(1, 50_000);
    assert.deepEqual(Object.keys(figures), ["plainLoop", "keyflow", "ratio", "heapStartMB", "heapEndMB"]);
    for (const value of Object.values(figures)) assert.ok(Number.isFinite(value) && value > 0, JSON.stringify(figures));
    assert.equal(figures.ratio, Math.round((figures.keyflow / figures.plainLoop) * 100) / 100);
  });
});
