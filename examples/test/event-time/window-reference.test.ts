import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { arrivalWatermarks, type Event, referenceWindows } from "./window-reference.js";

/** Records of one key "a" (unless given) from [ts, value] pairs, seq in order. */
function events(...items: Array<[number, string?]>): Event[] {
  return items.map(([ts, key], seq) => ({ key: key ?? "a", ts, value: 1, seq }));
}

describe("the batch window reference", () => {
  it("gives each record the watermark of the records before it", () => {
    assert.deepEqual(arrivalWatermarks(events([1_000], [500], [2_000], [1_500]), 100), [
      Number.NEGATIVE_INFINITY,
      899,
      899,
      1_899,
    ]);
  });

  it("fires a tumbling window once with its on-time records and drops a record behind the watermark", () => {
    // Bound 100: after ts 1_300 the watermark is 1_199, past the end of [0, 1000) — 900 is late.
    const ref = referenceWindows(
      events([100], [950], [1_300], [900], [1_050]),
      { kind: "tumbling", size: 1_000 },
      {
        boundMs: 100,
        latenessMs: 0,
      },
    );
    assert.deepEqual(ref.late, [3]);
    assert.deepEqual(ref.firings, [
      { key: "a", start: 0, end: 1_000, seqs: [0, 1] },
      { key: "a", start: 1_000, end: 2_000, seqs: [2, 4] },
    ]);
  });

  it("fires a window again for each record within the allowed lateness, and drops the ones after it", () => {
    const ref = referenceWindows(
      events([100], [1_300], [900], [2_400], [800]),
      { kind: "tumbling", size: 1_000 },
      {
        boundMs: 100,
        latenessMs: 500,
      },
    );
    // 900 arrives at watermark 1_199 (< 999 + 500): an update. 800 arrives at 2_299: too late.
    assert.deepEqual(ref.late, [4]);
    assert.deepEqual(ref.firings, [
      { key: "a", start: 0, end: 1_000, seqs: [0] },
      { key: "a", start: 0, end: 1_000, seqs: [0, 2] },
      { key: "a", start: 1_000, end: 2_000, seqs: [1] },
      { key: "a", start: 2_000, end: 3_000, seqs: [3] },
    ]);
  });

  it("keeps a sliding-window record in the windows still open when the older ones are gone", () => {
    // Size 1000, slide 500. 1_400 arrives at watermark 1_699: of its windows, [500, 1500) is gone
    // (1_499 <= 1_699) and [1000, 2000) still open.
    const ref = referenceWindows(
      events([100], [1_800], [1_400]),
      { kind: "sliding", size: 1_000, slide: 500 },
      {
        boundMs: 100,
        latenessMs: 0,
      },
    );
    assert.deepEqual(ref.late, []);
    const ids = ref.firings.map((f) => `${f.start}-${f.end}:${f.seqs.join(",")}`).sort();
    assert.deepEqual(ids, ["-500-500:0", "0-1000:0", "1000-2000:1,2", "1500-2500:1"]);
  });

  it("merges sessions a record bridges, and fires the merged session with all their records", () => {
    // Gap 100, bound 1000 (nothing fires before the end). [0, 100) and [180, 280) are apart; [90, 190) touches both.
    const ref = referenceWindows(
      events([0], [180], [90], [5_000, "b"]),
      { kind: "session", gap: 100 },
      {
        boundMs: 1_000,
        latenessMs: 0,
      },
    );
    assert.deepEqual(ref.firings, [
      { key: "a", start: 0, end: 280, seqs: [0, 1, 2] },
      { key: "b", start: 5_000, end: 5_100, seqs: [3] },
    ]);
  });

  it("lets a late record that touches a kept session extend it, and drops one that touches none", () => {
    // Gap 100, bound 0, lateness 300. Session [1000, 1100) fires at watermark 1_199; 950 touches it
    // (→ [950, 1100), fires at once); 700 touches nothing and its own session is past lateness.
    const ref = referenceWindows(
      events([1_000], [1_200], [950], [1_300], [700]),
      { kind: "session", gap: 100 },
      {
        boundMs: 0,
        latenessMs: 300,
      },
    );
    assert.deepEqual(ref.late, [4]);
    assert.deepEqual(ref.firings, [
      { key: "a", start: 1_000, end: 1_100, seqs: [0] },
      { key: "a", start: 950, end: 1_100, seqs: [0, 2] },
      { key: "a", start: 1_200, end: 1_400, seqs: [1, 3] },
    ]);
  });
});
