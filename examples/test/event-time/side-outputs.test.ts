import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sensorSource } from "@keyflow/functions-sdk";
import { execute } from "@keyflow/runtime";
import {
  FREEZING_F,
  freezingAlarms,
  monitoredReadings,
  SENSORS,
  sideOutputs,
} from "../../src/event-time/side-outputs.js";
import { multiset, readSource } from "../helpers.js";

const readings = await readSource(sensorSource(SENSORS));

describe("FreezingMonitor (side outputs)", () => {
  for (const parallelism of [1, 2]) {
    it(`forwards every reading and raises one alarm per reading below 32 °F, at parallelism ${parallelism}`, async () => {
      const result = await execute(sideOutputs({ print: false }), { parallelism });
      assert.deepEqual(multiset(result.get(monitoredReadings)), multiset(readings));
      const expected = readings.filter((r) => r.temperature < FREEZING_F).map((r) => `Freezing Alarm for ${r.id}`);
      assert.equal(expected.length, 25, "the seeded walk of sensor_2 freezes for 25 readings");
      assert.deepEqual([...result.get(freezingAlarms)].sort(), expected.sort());
    });
  }
});
