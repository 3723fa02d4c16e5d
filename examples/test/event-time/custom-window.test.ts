import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type SensorReading, sensorSource, TimeWindow, WatermarkStrategy } from "@keyflow/functions-sdk";
import { execute } from "@keyflow/runtime";
import {
  customWindow,
  EARLY_FIRING_MS,
  fixedSizeWindows,
  SENSORS,
  WINDOW_MS,
  type WindowCount,
  windowCounts,
} from "../../src/event-time/custom-window.js";
import { groupBy, readSource } from "../helpers.js";
import { punctuatedBoundedOutOfOrderness } from "./correctness-job.js";

const BOUND = 1_000;
const MAX_WATERMARK = Number.MAX_SAFE_INTEGER;
const UNPACED = { ...SENSORS, roundsPerSecond: undefined };
const readings = await readSource(sensorSource(UNPACED));

function punctuated(): WatermarkStrategy<SensorReading> {
  return WatermarkStrategy.forGenerator(() =>
    punctuatedBoundedOutOfOrderness<SensorReading>(BOUND),
  ).withTimestampAssigner((r) => r.timestamp);
}

/** The smallest multiple of the early-firing interval above `wm`. */
function nextWholeSecond(wm: number): number {
  return Math.floor(wm / EARLY_FIRING_MS) * EARLY_FIRING_MS + EARLY_FIRING_MS;
}

/**
 * The firings the trigger makes, replayed over the readings in source order with a watermark of
 * the largest timestamp − bound − 1 after each: a window's first reading sets an early timer at the
 * next whole second after the watermark; a timer the watermark reaches fires the window's count
 * (and sets the next early timer before the end); the end fires and purges. End of input: all fire.
 */
function expectedFirings(): WindowCount[] {
  type Open = { id: string; start: number; count: number; early: number | undefined };
  const open = new Map<string, Open>();
  const fired: WindowCount[] = [];
  const advance = (wm: number) => {
    // Due timers in timestamp order: early ones (before the end), then ends.
    const due: Array<[number, Open, "early" | "end"]> = [];
    for (const w of open.values()) {
      if (w.early !== undefined && w.early <= wm) due.push([w.early, w, "early"]);
      if (w.start + WINDOW_MS - 1 <= wm) due.push([w.start + WINDOW_MS - 1, w, "end"]);
    }
    due.sort((a, b) => a[0] - b[0]);
    for (const [, w, kind] of due) {
      fired.push({ id: w.id, windowEnd: w.start + WINDOW_MS, watermark: wm, count: w.count });
      if (kind === "end") {
        open.delete(`${w.id}@${w.start}`);
      } else {
        const next = nextWholeSecond(wm);
        w.early = next < w.start + WINDOW_MS - 1 ? next : undefined;
      }
    }
  };
  let maxTs = Number.NEGATIVE_INFINITY;
  let wm = Number.NEGATIVE_INFINITY;
  for (const r of readings) {
    const start = Math.floor(r.timestamp / WINDOW_MS) * WINDOW_MS;
    const id = `${r.id}@${start}`;
    let w = open.get(id);
    if (w === undefined) {
      const first = wm === Number.NEGATIVE_INFINITY ? start : nextWholeSecond(wm);
      w = { id: r.id, start, count: 0, early: first < start + WINDOW_MS - 1 ? first : undefined };
      open.set(id, w);
    }
    w.count++;
    maxTs = Math.max(maxTs, r.timestamp);
    if (maxTs - BOUND - 1 > wm) {
      wm = maxTs - BOUND - 1;
      advance(wm);
    }
  }
  advance(MAX_WATERMARK);
  return fired;
}

describe("custom window: fixed-size assigner, OneSecondIntervalTrigger, CountFunction", () => {
  it("puts each reading into the window holding its timestamp", () => {
    const assigner = fixedSizeWindows(5_000);
    const ctx = { currentProcessingTime: () => 0 };
    const r: SensorReading = { id: "s", timestamp: 0, temperature: 0 };
    assert.deepEqual(assigner.assignWindows(r, 7_300, ctx), [new TimeWindow(5_000, 10_000)]);
    assert.deepEqual(assigner.assignWindows(r, -1, ctx), [new TimeWindow(-5_000, 0)]);
  });

  it("fires early once a second of event time and finally at the end", async () => {
    const job = customWindow({
      source: () => sensorSource(UNPACED),
      // Punctuated (after every reading), so which watermark each firing sees is deterministic.
      watermarks: punctuated(),
      print: false,
    });
    // One source shard: the watermarks follow the readings' order, as the replay's do.
    const result = await execute(job, { parallelism: 1 });
    const expected = expectedFirings();
    assert.deepEqual(
      groupBy(result.get(windowCounts), (c) => c.id),
      groupBy(expected, (c) => c.id),
    );
    // Each window fires early once per second of event time, then with all its 50 readings at its end.
    for (const [window, firings] of groupBy(expected, (c) => `${c.id}@${c.windowEnd}`)) {
      assert.ok(firings.length >= 5, window);
      assert.equal(firings.at(-1)?.count, 50, window);
    }
  });

  it("gives each window its full count last, with early counts growing before it, at parallelism 2", async () => {
    // Two source shards, each with its own punctuated watermarks: how they interleave varies.
    const job = customWindow({ source: () => sensorSource(UNPACED), watermarks: punctuated(), print: false });
    const result = await execute(job, { parallelism: 2 });
    for (const [window, firings] of groupBy(result.get(windowCounts), (c) => `${c.id}@${c.windowEnd}`)) {
      const counts = firings.map((c) => c.count);
      assert.deepEqual(
        counts,
        [...counts].sort((a, b) => a - b),
        `${window}: counts never shrink`,
      );
      assert.equal(counts.at(-1), 50, `${window}: the final firing holds all 50 readings`);
      assert.ok(firings.length >= 2, `${window} fired early`);
    }
  });
});
