import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sensorSource } from "@keyflow/functions-sdk";
import { execute } from "@keyflow/runtime";
import {
  basicTransformations,
  celsiusReadings,
  hotReadings,
  idParts,
  SENSORS,
  THRESHOLD_F,
} from "../src/basic-transformations.js";
import { multiset, readSource } from "./helpers.js";

const readings = await readSource(sensorSource(SENSORS));
const hot = readings.filter((r) => r.temperature > THRESHOLD_F);

describe("basic transformations", () => {
  it("reads a few hundred readings, some of them above the threshold", () => {
    assert.equal(readings.length, 200);
    assert.ok(hot.length > 20 && hot.length < 180, `${hot.length} hot readings`);
  });

  for (const parallelism of [1, 3]) {
    it(`filters, converts and splits exactly as a plain loop does at parallelism ${parallelism}`, async () => {
      const result = await execute(basicTransformations({ print: false }), { parallelism });
      assert.deepEqual(multiset(result.get(hotReadings)), multiset(hot));
      assert.deepEqual(
        multiset(result.get(celsiusReadings)),
        multiset(hot.map((r) => ({ ...r, temperature: ((r.temperature - 32) * 5) / 9 }))),
      );
      assert.deepEqual(multiset(result.get(idParts)), multiset(hot.flatMap((r) => r.id.split("_"))));
    });
  }
});
