import {
  type Collector,
  collectSink,
  defineJob,
  type JobDefinition,
  type ProcessWindowContext,
  type ProcessWindowFunction,
  type SensorReading,
  type SensorSourceOptions,
  type Source,
  sensorSource,
  type TimeWindow,
  tumblingEventTimeWindows,
  WatermarkStrategy,
} from "@keyflow/functions-sdk";

/**
 * The book's AverageSensorReadings (chapters 1, 5 and 6): readings in °F converted to °C and
 * averaged per sensor over tumbling one-second windows of event time; watermarks trail the
 * largest timestamp by five seconds (bounded out-of-orderness), so a window's average comes
 * out once event time is five seconds past its end, or when the input ends.
 *
 * This is what `npm start` runs. Or: `npm run keyflow -- run examples/dist/src/event-time/average-sensor-readings.js`.
 */

/** How far event time may run ahead of a late reading, in ms: the book's five seconds. */
export const OUT_OF_ORDERNESS_MS = 5_000;
export const WINDOW_MS = 1_000;

/** 10 sensors, 100 readings each 100 ms apart (10 s of event time), at 20 rounds a second: a 5-second run. */
export const SENSORS: SensorSourceOptions = { sensors: 10, readingsPerSensor: 100, roundsPerSecond: 20, seed: 42 };

/**
 * The book's TemperatureAverager: the average temperature of one sensor's readings in one window,
 * as a reading stamped with the window's end.
 */
export class TemperatureAverager implements ProcessWindowFunction<SensorReading, SensorReading, string, TimeWindow> {
  process(
    sensorId: string,
    ctx: ProcessWindowContext<TimeWindow, Record<never, never>, Record<never, never>>,
    readings: readonly SensorReading[],
    out: Collector<SensorReading>,
  ): void {
    let sum = 0;
    for (const r of readings) sum += r.temperature;
    out.collect({ id: sensorId, timestamp: ctx.window.end, temperature: sum / readings.length });
  }
}

export function fahrenheitToCelsius(fahrenheit: number): number {
  return (fahrenheit - 32) * (5 / 9);
}

export const averages = collectSink<SensorReading>("average-temperatures");

export interface AverageSensorReadingsOptions {
  readonly source?: () => Source<SensorReading>;
  readonly print?: boolean;
}

export function averageSensorReadings(options: AverageSensorReadingsOptions = {}): JobDefinition {
  const source = options.source ?? (() => sensorSource(SENSORS));
  return defineJob({ name: "average-sensor-readings" }, (env) => {
    const avgTemp = env
      .fromSource(
        source(),
        "Sensors",
        WatermarkStrategy.forBoundedOutOfOrderness<SensorReading>(OUT_OF_ORDERNESS_MS).withTimestampAssigner(
          (r) => r.timestamp,
        ),
      )
      .map((r) => ({ ...r, temperature: fahrenheitToCelsius(r.temperature) }))
      .keyBy((r) => r.id)
      .window(tumblingEventTimeWindows(WINDOW_MS))
      .process(new TemperatureAverager())
      .name("AverageTemperature");
    avgTemp.collect(averages);
    if (options.print ?? true) {
      avgTemp
        .map((r) => `${r.id} average ${r.temperature.toFixed(2)} °C in the second ending at t=${r.timestamp} ms`)
        .print();
    }
  });
}

export default averageSensorReadings();
