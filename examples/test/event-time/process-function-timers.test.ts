import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type Collector,
  type KeyedContext,
  type OnTimerContext,
  SeededRandom,
  type SensorReading,
} from "@keyflow/functions-sdk";
import { execute, SimulatedClock } from "@keyflow/runtime";
import {
  type AlertState,
  alerts,
  processFunctionTimers,
  RISE_MS,
  TempIncreaseAlertFunction,
} from "../../src/event-time/process-function-timers.js";
import { ClockedSchedule, type ScheduledRecord } from "./clocked-schedule.js";

const SENSORS = 4;
const ROUNDS = 150;
const END_AT = ROUNDS * 100 + 2 * RISE_MS;

/**
 * Readings whose temperatures rise, fall or hold in seeded runs of 2 to 25 readings, so some rises
 * last longer than a second and some shorter. Sensor s reads at 100 ms · round + 10 ms · s of
 * processing time (ties with timers included: a timer due at a reading's arrival fires first).
 */
function scheduledReadings(seed: number): ScheduledRecord[] {
  const random = new SeededRandom(seed);
  const walks = Array.from({ length: SENSORS }, () => ({ temperature: 60, trend: 0, left: 0 }));
  const records: ScheduledRecord[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    walks.forEach((walk, s) => {
      if (walk.left === 0) {
        walk.trend = random.nextInt(3) - 1;
        walk.left = 2 + random.nextInt(24);
      }
      walk.left--;
      // A step of 0 now and then: an equal reading neither starts nor ends a rise.
      walk.temperature = Math.round((walk.temperature + walk.trend * random.nextInt(4) * 0.25) * 100) / 100;
      const at = round * 100 + s * 10;
      const reading: SensorReading = { id: `sensor_${s + 1}`, timestamp: at, temperature: walk.temperature };
      records.push({ stream: "readings", at, value: reading, timestamp: at });
    });
  }
  return records;
}

/**
 * When each sensor's alerts fire, found from the runs of readings: a rise starts at the first
 * reading above its predecessor (none pending); it alerts a second later unless a reading below
 * its predecessor (or the sensor's first reading) arrives strictly within that second.
 */
function expectedAlerts(records: readonly ScheduledRecord[]): Map<string, number[]> {
  const bySensor = new Map<string, Array<{ at: number; temperature: number }>>();
  for (const { at, value } of records) {
    const r = value as SensorReading;
    bySensor.set(r.id, [...(bySensor.get(r.id) ?? []), { at, temperature: r.temperature }]);
  }
  const result = new Map<string, number[]>();
  for (const [id, readings] of bySensor) {
    const fired: number[] = [];
    let i = 1;
    while (i < readings.length) {
      const start = readings[i] as { at: number; temperature: number };
      if (!(start.temperature > (readings[i - 1]?.temperature ?? Number.POSITIVE_INFINITY))) {
        i++;
        continue;
      }
      const due = start.at + RISE_MS;
      // The first drop after the rise started: it cancels the rise when it comes before the timer.
      let j = i + 1;
      while (j < readings.length && !((readings[j]?.temperature ?? 0) < (readings[j - 1]?.temperature ?? 0))) j++;
      const dropAt = readings[j]?.at ?? Number.POSITIVE_INFINITY;
      if (dropAt < due) {
        i = j + 1;
      } else {
        if (due <= END_AT) fired.push(due);
        // The next rise can start with the first reading at or after the alert.
        i = readings.findIndex((r) => r.at >= due);
        if (i < 0) break;
      }
    }
    if (fired.length > 0) result.set(id, fired);
  }
  return new Map([...result].sort(([a], [b]) => a.localeCompare(b)));
}

describe("TempIncreaseAlertFunction (processing-time timers)", () => {
  for (const parallelism of [1, 2]) {
    it(`alerts exactly when a sensor's temperature rose for a whole second, at parallelism ${parallelism}`, async () => {
      const clock = new SimulatedClock(0);
      const records = scheduledReadings(17);
      const schedule = new ClockedSchedule(clock, records, END_AT);
      const fired: Array<[string, number, number]> = [];

      /** The book's function, telling the schedule what it processed and noting when its timers fire. */
      class Observed extends TempIncreaseAlertFunction {
        override processElement(
          reading: SensorReading,
          ctx: KeyedContext<string, AlertState>,
          out: Collector<string>,
        ): void {
          super.processElement(reading, ctx, out);
          schedule.processed();
        }
        override onTimer(timestamp: number, ctx: OnTimerContext<string, AlertState>, out: Collector<string>) {
          fired.push([ctx.key, timestamp, ctx.currentProcessingTime()]);
          super.onTimer(timestamp, ctx, out);
        }
      }

      const job = processFunctionTimers({
        source: () => schedule.source<SensorReading>("readings"),
        alertFunction: () => new Observed(),
        print: false,
      });
      const result = await execute(job, { parallelism, workers: 0, clock });

      const expected = expectedAlerts(records);
      const actual = new Map<string, number[]>();
      for (const [key, timestamp, now] of fired) {
        // It fires once the clock reached it, before the next reading arrives (the clock then stands at that reading).
        assert.ok(now >= timestamp, `timer ${timestamp} fired at ${now}`);
        actual.set(key, [...(actual.get(key) ?? []), timestamp]);
      }
      assert.deepEqual(new Map([...actual].sort(([a], [b]) => a.localeCompare(b))), expected);
      const total = [...expected.values()].reduce((n, times) => n + times.length, 0);
      assert.ok(total >= 5, `the data has rises long enough to alert (${total})`);
      assert.deepEqual(
        [...result.get(alerts)].sort(),
        [...expected]
          .flatMap(([id, times]) =>
            times.map(() => `Temperature of sensor '${id}' monotonically increased for 1 second.`),
          )
          .sort(),
      );
    });
  }

  it("deletes the timer when the temperature drops, so a rise cut short never alerts", async () => {
    const clock = new SimulatedClock(0);
    // sensor_1 rises for 900 ms, drops, rises for 1.3 s, drops; sensor_2 only rises, from 5 s on.
    const temps1 = [50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 10];
    const records: ScheduledRecord[] = temps1.map((temperature, i) => ({
      stream: "readings",
      at: i * 100,
      value: { id: "sensor_1", timestamp: i * 100, temperature },
    }));
    records.push(
      { stream: "readings", at: 5_000, value: { id: "sensor_2", timestamp: 5_000, temperature: 1 } },
      { stream: "readings", at: 5_050, value: { id: "sensor_2", timestamp: 5_050, temperature: 2 } },
    );
    const schedule = new ClockedSchedule(clock, records, 7_000);
    class Counted extends TempIncreaseAlertFunction {
      override processElement(r: SensorReading, ctx: KeyedContext<string, AlertState>, out: Collector<string>) {
        super.processElement(r, ctx, out);
        schedule.processed();
      }
    }
    const fired: number[] = [];
    const job = processFunctionTimers({
      source: () => schedule.source<SensorReading>("readings"),
      alertFunction: () =>
        new (class extends Counted {
          override onTimer(timestamp: number, ctx: OnTimerContext<string, AlertState>, out: Collector<string>) {
            fired.push(timestamp);
            super.onTimer(timestamp, ctx, out);
          }
        })(),
      print: false,
    });
    const result = await execute(job, { workers: 0, clock });
    // The first rise's timer (due at 1100) was deleted at 1000; the second, started at 1100, fired
    // before the reading at 2100, which started a third that the drop at 2400 deleted.
    assert.deepEqual(fired, [2_100, 6_050]);
    assert.deepEqual(result.get(alerts), [
      "Temperature of sensor 'sensor_1' monotonically increased for 1 second.",
      "Temperature of sensor 'sensor_2' monotonically increased for 1 second.",
    ]);
  });
});
