import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sensorSource } from "@keyflow/functions-sdk";
import { execute } from "@keyflow/runtime";
import {
  avgTemps,
  minMaxTemps,
  minMaxTempsIncremental,
  minTemps,
  SENSORS,
  WINDOW_MS,
  windowFunctions,
} from "../../src/event-time/window-functions.js";
import { multiset, readSource } from "../helpers.js";

const readings = await readSource(sensorSource(SENSORS));

/** Per sensor and 5-second window: the readings' temperatures, in source order. */
const windows = new Map<string, { id: string; end: number; temps: number[] }>();
for (const r of readings) {
  const end = Math.floor(r.timestamp / WINDOW_MS) * WINDOW_MS + WINDOW_MS;
  const w = windows.get(`${r.id}@${end}`) ?? { id: r.id, end, temps: [] };
  w.temps.push(r.temperature);
  windows.set(`${r.id}@${end}`, w);
}
const all = [...windows.values()];

describe("window functions", () => {
  for (const parallelism of [1, 3]) {
    it(`compute each sensor's min, average, and min and max per window four ways, at parallelism ${parallelism}`, async () => {
      const result = await execute(windowFunctions({ print: false }), { parallelism });
      assert.equal(all.length, 5 * 3, "5 sensors, 12 s of readings in 5 s windows");
      assert.deepEqual(
        multiset(result.get(minTemps)),
        multiset(all.map((w) => ({ id: w.id, temperature: Math.min(...w.temps) }))),
      );
      assert.deepEqual(
        multiset(result.get(avgTemps)),
        multiset(all.map((w) => ({ id: w.id, temperature: w.temps.reduce((a, b) => a + b, 0) / w.temps.length }))),
      );
      const minMax = all.map((w) => ({ id: w.id, min: Math.min(...w.temps), max: Math.max(...w.temps), endTs: w.end }));
      assert.deepEqual(multiset(result.get(minMaxTemps)), multiset(minMax));
      assert.deepEqual(multiset(result.get(minMaxTempsIncremental)), multiset(minMax));
    });
  }
});
