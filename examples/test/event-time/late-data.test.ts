import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type SensorReading, sensorSource, WatermarkStrategy } from "@keyflow/functions-sdk";
import { execute } from "@keyflow/runtime";
import {
  ALLOWED_LATENESS_MS,
  countsWithoutLateReadings,
  filteredLateReadings,
  lateData,
  lateReadings,
  MAX_SHUFFLE_MS,
  OUT_OF_ORDERNESS_MS,
  onTimeReadings,
  SENSORS,
  shuffledTimestamps,
  updatingCounts,
  WINDOW_MS,
  type WindowCountUpdate,
} from "../../src/event-time/late-data.js";
import { groupBy, multiset, readSource } from "../helpers.js";
import { punctuatedBoundedOutOfOrderness } from "./correctness-job.js";
import { arrivalWatermarks, type Event, referenceWindows } from "./window-reference.js";

const UNPACED = { ...SENSORS, roundsPerSecond: undefined };
const source = () => shuffledTimestamps(sensorSource(UNPACED), MAX_SHUFFLE_MS);
const readings = await readSource(source());
/** The readings before shuffling, in source order. */
const originals = await readSource(sensorSource(UNPACED));
const events: Event[] = readings.map((r, seq) => ({ key: r.id, ts: r.timestamp, value: 1, seq }));
const tumbling = { kind: "tumbling", size: WINDOW_MS } as const;

describe("late data: side output and allowed lateness", () => {
  it("shuffles timestamps back by up to the shuffle bound, in source order", () => {
    assert.equal(readings.length, originals.length);
    readings.forEach((r, i) => {
      const o = originals[i] as SensorReading;
      assert.deepEqual({ ...r, timestamp: o.timestamp }, o);
      assert.ok(r.timestamp <= o.timestamp && r.timestamp > o.timestamp - MAX_SHUFFLE_MS);
    });
  });

  it("sends exactly the readings behind the watermark to the side output, and counts the rest once per window", async () => {
    // Punctuated watermarks (after every reading, largest timestamp − bound − 1): which readings
    // are late is then fixed, and the batch reference says which.
    const watermarks = WatermarkStrategy.forGenerator(() =>
      punctuatedBoundedOutOfOrderness<SensorReading>(OUT_OF_ORDERNESS_MS),
    ).withTimestampAssigner((r) => r.timestamp);
    const result = await execute(lateData({ source, watermarks, print: false }), { parallelism: 2 });

    const strict = referenceWindows(events, tumbling, { boundMs: OUT_OF_ORDERNESS_MS, latenessMs: 0 });
    assert.ok(strict.late.length > 10, `some readings are late (${strict.late.length})`);
    assert.deepEqual(multiset(result.get(lateReadings)), multiset(strict.late.map((seq) => readings[seq])));
    assert.deepEqual(
      multiset(result.get(countsWithoutLateReadings)),
      multiset(strict.firings.map((f) => ({ id: f.key, windowEnd: f.end, count: f.seqs.length }))),
    );

    const lenient = referenceWindows(events, tumbling, {
      boundMs: OUT_OF_ORDERNESS_MS,
      latenessMs: ALLOWED_LATENESS_MS,
    });
    const expected: WindowCountUpdate[] = [];
    const seen = new Set<string>();
    for (const f of lenient.firings) {
      const id = `${f.key}@${f.end}`;
      expected.push({ id: f.key, windowEnd: f.end, count: f.seqs.length, kind: seen.has(id) ? "update" : "first" });
      seen.add(id);
    }
    const byWindow = (results: readonly WindowCountUpdate[]) => groupBy(results, (c) => `${c.id}@${c.windowEnd}`);
    assert.deepEqual(byWindow(result.get(updatingCounts)), byWindow(expected));
    assert.ok(expected.filter((c) => c.kind === "update").length > 10, "late readings updated windows");
  });

  it("LateReadingsFilter sends on the readings behind the watermark they meet, and passes the rest", async () => {
    const watermarks = WatermarkStrategy.forGenerator(() =>
      punctuatedBoundedOutOfOrderness<SensorReading>(OUT_OF_ORDERNESS_MS),
    ).withTimestampAssigner((r) => r.timestamp);
    const result = await execute(lateData({ source, watermarks, print: false }), { parallelism: 2 });
    const met = arrivalWatermarks(events, OUT_OF_ORDERNESS_MS);
    const behind = readings.filter((r, i) => r.timestamp < (met[i] as number));
    assert.ok(behind.length > 20);
    assert.deepEqual(multiset(result.get(filteredLateReadings)), multiset(behind));
    assert.deepEqual(multiset(result.get(onTimeReadings)), multiset(readings.filter((r) => !behind.includes(r))));
  });

  it("with periodic watermarks, counts every reading once: in its window or as late", async () => {
    const result = await execute(lateData({ source, print: false }), { parallelism: 2 });
    const counted = result.get(countsWithoutLateReadings).reduce((n, c) => n + c.count, 0);
    assert.equal(counted + result.get(lateReadings).length, readings.length);
    const finals = new Map<string, number>();
    for (const c of result.get(updatingCounts)) finals.set(`${c.id}@${c.windowEnd}`, c.count);
    assert.ok([...finals.values()].reduce((n, c) => n + c, 0) <= readings.length);
  });
});
