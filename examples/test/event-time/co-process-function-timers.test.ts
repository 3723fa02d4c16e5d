import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Collector, type KeyedContext, SeededRandom, type SensorReading } from "@keyflow/functions-sdk";
import { execute, SimulatedClock } from "@keyflow/runtime";
import {
  coProcessFunctionTimers,
  type FilterState,
  type FilterSwitch,
  forwardedReadings,
  ReadingFilter,
} from "../../src/event-time/co-process-function-timers.js";
import { ClockedSchedule, type ScheduledRecord } from "./clocked-schedule.js";

const SENSORS = 4;
const ROUNDS = 100;
const END_AT = ROUNDS * 100 + 1_000;

/**
 * Readings of 4 sensors every 100 ms (sensor s at 100 ms · round + 10 ms · s), and switches: a
 * few written out (a shorter switch inside a longer one, one that extends a pending one, one
 * arriving exactly when another expires, one outlasting the run) and a seeded scatter.
 */
function schedule(seed: number): ScheduledRecord[] {
  const records: ScheduledRecord[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (let s = 0; s < SENSORS; s++) {
      const at = round * 100 + s * 10;
      const reading: SensorReading = { id: `sensor_${s + 1}`, timestamp: at, temperature: 60 + s + round / 100 };
      records.push({ stream: "readings", at, value: reading });
    }
  }
  const switches: Array<[number, FilterSwitch]> = [
    [505, { sensorId: "sensor_2", durationMs: 2_000 }],
    [1_505, { sensorId: "sensor_2", durationMs: 500 }],
    [3_005, { sensorId: "sensor_3", durationMs: 1_000 }],
    [3_505, { sensorId: "sensor_3", durationMs: 2_000 }],
    [2_505, { sensorId: "sensor_2", durationMs: 1_200 }],
    [9_005, { sensorId: "sensor_1", durationMs: 60_000 }],
  ];
  const random = new SeededRandom(seed);
  for (let n = 0; n < 12; n++) {
    switches.push([
      random.nextInt(ROUNDS) * 100 + 5 + random.nextInt(90),
      { sensorId: `sensor_${1 + random.nextInt(SENSORS)}`, durationMs: 100 + random.nextInt(1_500) },
    ]);
  }
  for (const [at, value] of switches) records.push({ stream: "switches", at, value });
  // Stable: at equal times, readings before switches.
  return records.sort((a, b) => a.at - b.at);
}

/** A reading passes when some switch of its sensor, scheduled before it, lasts past its arrival. */
function expectedForwarded(records: readonly ScheduledRecord[]): SensorReading[] {
  const forwarded: SensorReading[] = [];
  records.forEach((record, i) => {
    if (record.stream !== "readings") return;
    const reading = record.value as SensorReading;
    const open = records
      .slice(0, i)
      .some(
        (s) =>
          s.stream === "switches" &&
          (s.value as FilterSwitch).sensorId === reading.id &&
          s.at + (s.value as FilterSwitch).durationMs > record.at,
      );
    if (open) forwarded.push(reading);
  });
  return forwarded;
}

describe("ReadingFilter (a co-process function with processing-time timers)", () => {
  for (const parallelism of [1, 2]) {
    it(`forwards a sensor's readings only while a switch for it lasts, at parallelism ${parallelism}`, async () => {
      const clock = new SimulatedClock(0);
      const records = schedule(29);
      const scheduled = new ClockedSchedule(clock, records, END_AT);
      class Counted extends ReadingFilter {
        override processElement1(
          r: SensorReading,
          ctx: KeyedContext<string, FilterState>,
          out: Collector<SensorReading>,
        ) {
          super.processElement1(r, ctx, out);
          scheduled.processed();
        }
        override processElement2(s: FilterSwitch, ctx: KeyedContext<string, FilterState>) {
          super.processElement2(s, ctx);
          scheduled.processed();
        }
      }
      const job = coProcessFunctionTimers({
        readings: () => scheduled.source<SensorReading>("readings"),
        switches: () => scheduled.source<FilterSwitch>("switches"),
        filter: () => new Counted(),
        print: false,
      });
      const result = await execute(job, { parallelism, workers: 0, clock });

      const expected = expectedForwarded(records);
      const bySensor = (readings: readonly SensorReading[]) =>
        [...readings].sort((a, b) => a.id.localeCompare(b.id) || a.timestamp - b.timestamp);
      assert.deepEqual(bySensor(result.get(forwardedReadings)), bySensor(expected));
      // The written-out switches: sensor_2 from 505 until 2505 (the shorter switch does not cut it short),
      // then 2505–3705; sensor_3 from 3005 until 5505 (extended); sensor_1 from 9005 to the end.
      const times = (id: string) => expected.filter((r) => r.id === id).map((r) => r.timestamp);
      assert.ok(times("sensor_2").includes(2_410) && times("sensor_2").includes(3_610));
      assert.ok(times("sensor_3").includes(5_420));
      assert.ok(times("sensor_1").includes(9_900));
      assert.ok(expected.length < records.length / 2, "the filter holds most readings back");
    });
  }
});
