import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type SensorReading, sensorSource } from "@keyflow/functions-sdk";
import { execute } from "@keyflow/runtime";
import {
  ALERT_THRESHOLD_F,
  type Alert,
  alerts,
  allCities,
  CITIES,
  multiStreamTransformations,
  SENSORS,
} from "../src/multi-stream-transformations.js";
import { multiset, readSource } from "./helpers.js";

const readings = await readSource(sensorSource(SENSORS));
/** The alert each hot reading raises while the smoke level is high. */
const alertsOfHotReadings: Alert[] = readings
  .filter((r) => r.temperature > ALERT_THRESHOLD_F)
  .map((r) => ({ message: "Risk of fire!", sensorId: r.id, temperature: r.temperature, timestamp: r.timestamp }));

const cityReadings: SensorReading[] = [];
for (const city of CITIES) {
  for (const r of await readSource(sensorSource(city.sensors))) cityReadings.push({ ...r, id: `${city.name}/${r.id}` });
}

describe("multi-stream transformations", () => {
  it("has hot readings to raise alerts on", () => {
    assert.ok(alertsOfHotReadings.length > 10, `${alertsOfHotReadings.length} hot readings`);
  });

  for (const parallelism of [1, 3]) {
    it(`raises an alert for every hot reading when smoke is always high, at parallelism ${parallelism}`, async () => {
      const job = multiStreamTransformations({
        print: false,
        paced: false,
        highSmokeChance: 1,
        initialSmokeLevel: "High",
      });
      const result = await execute(job, { parallelism });
      assert.deepEqual(multiset(result.get(alerts)), multiset(alertsOfHotReadings));
    });

    it(`unions the three cities' readings exactly at parallelism ${parallelism}`, async () => {
      const job = multiStreamTransformations({ print: false, paced: false });
      const result = await execute(job, { parallelism });
      assert.equal(result.get(allCities).length, 90);
      assert.deepEqual(multiset(result.get(allCities)), multiset(cityReadings));
    });
  }

  it("raises no alert when smoke is always low", async () => {
    const job = multiStreamTransformations({ print: false, paced: false, highSmokeChance: 0 });
    const result = await execute(job, { parallelism: 2 });
    assert.deepEqual(result.get(alerts), []);
  });

  it("raises alerts only for hot readings, each at most once, with the book's random smoke on worker threads", async () => {
    // Which readings meet a "High" depends on how the paced streams interleave: check what holds in every run.
    const module = new URL("../src/multi-stream-transformations.js", import.meta.url);
    const result = await execute(module, { parallelism: 2, workers: 2 });
    const hot = new Map<string, number>();
    for (const key of multiset(alertsOfHotReadings)) hot.set(key, (hot.get(key) ?? 0) + 1);
    for (const key of multiset(result.get(alerts))) {
      const left = hot.get(key) ?? 0;
      assert.ok(left > 0, `alert ${key} is not a hot reading, or is raised twice`);
      hot.set(key, left - 1);
    }
    assert.equal(result.get(allCities).length, 90);
  });
});
