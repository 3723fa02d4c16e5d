import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type SensorReading, type Source, sensorSource, type WatermarkOutput } from "@keyflow/functions-sdk";
import { execute, SimulatedClock } from "@keyflow/runtime";
import {
  periodicAssigner,
  periodicTagged,
  punctuatedAssigner,
  punctuatedTagged,
  SENSORS,
  watermarkGeneration,
} from "../../src/event-time/watermark-generation.js";
import { readSource } from "../helpers.js";

const BOUND = 1_000;
const readings = await readSource(sensorSource(SENSORS));

/** Emits reading n when the simulated clock has been moved to 50 ms · n, one reading per poll. */
function steppedSource(clock: SimulatedClock, items: readonly SensorReading[]): Source<SensorReading> {
  return {
    maxParallelism: 1,
    createReader() {
      let n = 0;
      return {
        poll(output) {
          const reading = items[n];
          if (reading === undefined) return "end";
          clock.advance(n * 50 - clock.now());
          output.collect(reading, reading.timestamp);
          n++;
          // Yield, so the periodic watermark the clock just made due runs before the next reading.
          return new Promise((resolve) => setImmediate(resolve));
        },
      };
    },
  };
}

function recorder(): WatermarkOutput & { watermarks: number[] } {
  const watermarks: number[] = [];
  return { watermarks, emitWatermark: (t) => watermarks.push(t), markIdle() {}, markActive() {} };
}

describe("custom watermark generators", () => {
  it("periodic: each emission trails the largest timestamp seen so far by the bound", () => {
    const generator = periodicAssigner(BOUND);
    const out = recorder();
    generator.onPeriodicEmit(out);
    for (const [ts, emitAfter] of [
      [500, true],
      [300, true],
      [900, false],
      [800, true],
    ] as const) {
      generator.onEvent({ id: "sensor_3", timestamp: ts, temperature: 60 }, ts, out);
      if (emitAfter) generator.onPeriodicEmit(out);
    }
    assert.deepEqual(out.watermarks, [500 - BOUND, 500 - BOUND, 900 - BOUND]);
  });

  it("punctuated: a watermark right after each reading of sensor_1, none for other sensors", () => {
    const generator = punctuatedAssigner(BOUND);
    const out = recorder();
    generator.onEvent({ id: "sensor_2", timestamp: 4_000, temperature: 60 }, 4_000, out);
    generator.onEvent({ id: "sensor_1", timestamp: 3_000, temperature: 60 }, 3_000, out);
    generator.onPeriodicEmit(out);
    generator.onEvent({ id: "sensor_1", timestamp: 5_000, temperature: 60 }, 5_000, out);
    assert.deepEqual(out.watermarks, [3_000 - BOUND, 5_000 - BOUND]);
  });

  it("in a job, each reading meets the watermark the generators emitted before it", async () => {
    const clock = new SimulatedClock(0);
    const job = watermarkGeneration({
      boundMs: BOUND,
      source: (pipeline) => (pipeline === "periodic" ? steppedSource(clock, readings) : sensorSource(SENSORS)),
      print: false,
    });
    const result = await execute(job, { workers: 0, clock });

    // Punctuated: the bound behind the latest earlier reading of sensor_1.
    let punctuated = Number.NEGATIVE_INFINITY;
    const expectedPunctuated = readings.map((reading) => {
      const seen = { reading, watermark: punctuated };
      if (reading.id === "sensor_1") punctuated = Math.max(punctuated, reading.timestamp - BOUND);
      return seen;
    });
    assert.deepEqual(result.get(punctuatedTagged), expectedPunctuated);

    // Periodic, every 200 ms of the clock: reading n arrives at 50 ms · n, so the emission at
    // 200 ms · k follows reading 4k and covers readings 0..4k; readings 4k+1..4k+4 meet it.
    const maxUpTo = (last: number) => Math.max(...readings.slice(0, last + 1).map((r) => r.timestamp));
    const expectedPeriodic = readings.map((reading, n) => {
      const k = Math.floor((n - 1) / 4);
      return { reading, watermark: k >= 1 ? maxUpTo(4 * k) - BOUND : Number.NEGATIVE_INFINITY };
    });
    assert.deepEqual(result.get(periodicTagged), expectedPeriodic);
  });
});
