import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sensorSource } from "@keyflow/functions-sdk";
import { execute } from "@keyflow/runtime";
import {
  intervalPairs,
  joinsOnTime,
  LOWER_BOUND_MS,
  THERMOMETER_A,
  THERMOMETER_B,
  UPPER_BOUND_MS,
  WINDOW_MS,
  windowPairs,
} from "../../src/event-time/joins-on-time.js";
import { multiset, readSource } from "../helpers.js";

const as = await readSource(sensorSource(THERMOMETER_A));
const bs = await readSource(sensorSource(THERMOMETER_B));
const difference = (x: number, y: number) => Math.round((x - y) * 100) / 100;

/** Nested loops over both thermometers' readings: every pair of one sensor that the predicate keeps. */
function pairsWhere(keep: (aTs: number, bTs: number) => boolean) {
  return as.flatMap((a) =>
    bs
      .filter((b) => b.id === a.id && keep(a.timestamp, b.timestamp))
      .map((b) => ({
        id: a.id,
        aAt: a.timestamp,
        bAt: b.timestamp,
        difference: difference(a.temperature, b.temperature),
      })),
  );
}

describe("joins on time", () => {
  for (const parallelism of [1, 2]) {
    it(`window join pairs every A and B reading of a sensor in the same second, at parallelism ${parallelism}`, async () => {
      const result = await execute(joinsOnTime({ print: false }), { parallelism });
      const sameSecond = (x: number, y: number) => Math.floor(x / WINDOW_MS) === Math.floor(y / WINDOW_MS);
      const expected = pairsWhere(sameSecond);
      assert.equal(expected.length, 3 * 4 * 10 * 4, "3 sensors, 4 seconds, 10 A and 4 B readings a second");
      assert.deepEqual(multiset(result.get(windowPairs)), multiset(expected));

      const withinBounds = (aTs: number, bTs: number) => bTs >= aTs + LOWER_BOUND_MS && bTs <= aTs + UPPER_BOUND_MS;
      const expectedInterval = pairsWhere(withinBounds);
      assert.ok(expectedInterval.length > 3 * 40 * 5);
      assert.deepEqual(multiset(result.get(intervalPairs)), multiset(expectedInterval));
    });
  }
});
