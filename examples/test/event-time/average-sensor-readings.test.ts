import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type SensorReading, sensorSource } from "@keyflow/functions-sdk";
import { execute } from "@keyflow/runtime";
import { averageSensorReadings, averages, SENSORS, WINDOW_MS } from "../../src/event-time/average-sensor-readings.js";
import { groupBy, readSource } from "../helpers.js";

// The same readings, unpaced: the pacing only spreads them over 5 s of wall time.
const UNPACED = { ...SENSORS, roundsPerSecond: undefined };
const readings = await readSource(sensorSource(UNPACED));

/** Per sensor and second of event time, the average of the readings in °C, summed in source order. */
function expectedAverages(): Map<string, SensorReading[]> {
  const windows = new Map<string, { id: string; end: number; sum: number; n: number }>();
  for (const r of readings) {
    const end = Math.floor(r.timestamp / WINDOW_MS) * WINDOW_MS + WINDOW_MS;
    const id = `${r.id}@${end}`;
    const w = windows.get(id) ?? { id: r.id, end, sum: 0, n: 0 };
    w.sum += (r.temperature - 32) * (5 / 9);
    w.n++;
    windows.set(id, w);
  }
  const results = [...windows.values()].map((w) => ({ id: w.id, timestamp: w.end, temperature: w.sum / w.n }));
  return groupBy(
    results.sort((a, b) => a.timestamp - b.timestamp),
    (r) => r.id,
  );
}

describe("AverageSensorReadings (what npm start runs)", () => {
  for (const parallelism of [1, 2]) {
    it(`averages each sensor's readings in °C per second of event time, at parallelism ${parallelism}`, async () => {
      const job = averageSensorReadings({ source: () => sensorSource(UNPACED), print: false });
      const result = await execute(job, { parallelism });
      const actual = groupBy(result.get(averages), (r) => r.id);
      assert.deepEqual(actual, expectedAverages());
      assert.equal(result.get(averages).length, 10 * 10, "10 sensors, 10 one-second windows each");
    });
  }
});
