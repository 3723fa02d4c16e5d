import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type SensorReading, sensorSource } from "@keyflow/functions-sdk";
import { execute, type JobResult } from "@keyflow/runtime";
import { hottestReadings, keyedTransformations, maxTemperatures, SENSORS } from "../src/keyed-transformations.js";
import { groupBy, readSource } from "./helpers.js";

const readings = await readSource(sensorSource(SENSORS));

/** Per sensor, the rolling values a plain loop computes, one per reading in the sensor's order. */
function rolling(reduce: (current: SensorReading, next: SensorReading) => SensorReading): Map<string, SensorReading[]> {
  const current = new Map<string, SensorReading>();
  const emitted: SensorReading[] = [];
  for (const reading of readings) {
    const before = current.get(reading.id);
    const next = before === undefined ? reading : reduce(before, reading);
    current.set(reading.id, next);
    emitted.push(next);
  }
  return groupBy(emitted, (r) => r.id);
}
const expectedMax = rolling((a, b) => (b.temperature > a.temperature ? { ...a, temperature: b.temperature } : a));
const expectedHottest = rolling((a, b) => (a.temperature > b.temperature ? a : b));

function check(result: JobResult): void {
  // A key's records all go to one shard, in order: each sensor's sequence of rolling values is exact.
  assert.deepEqual(
    groupBy(result.get(maxTemperatures), (r) => r.id),
    expectedMax,
  );
  assert.deepEqual(
    groupBy(result.get(hottestReadings), (r) => r.id),
    expectedHottest,
  );
  const finalMax = new Map([...expectedMax].map(([id, values]) => [id, values.at(-1)?.temperature]));
  const plainMax = new Map<string, number>();
  for (const r of readings) plainMax.set(r.id, Math.max(plainMax.get(r.id) ?? Number.NEGATIVE_INFINITY, r.temperature));
  assert.deepEqual(finalMax, new Map([...plainMax].sort(([a], [b]) => (a < b ? -1 : 1))));
}

describe("keyed transformations", () => {
  for (const parallelism of [1, 2, 3]) {
    it(`emits each sensor's rolling max and hottest reading at parallelism ${parallelism}`, async () => {
      check(await execute(keyedTransformations({ print: false }), { parallelism }));
    });
  }

  it("gives the same results when the job module runs on worker threads", async () => {
    const module = new URL("../src/keyed-transformations.js", import.meta.url);
    check(await execute(module, { parallelism: 2, workers: 2 }));
  });
});
