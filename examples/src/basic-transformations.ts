import {
  type Collector,
  collectSink,
  defineJob,
  type JobDefinition,
  type SensorReading,
  type SensorSourceOptions,
  sensorSource,
} from "@keyflow/functions-sdk";

/**
 * The book's BasicTransformations (chapter 5): filter, map and flatMap on the sensor stream.
 * Readings above a threshold pass the filter, are converted to degrees Celsius, and their ids
 * are split into parts ("sensor_3" -> "sensor", "3").
 *
 * Run it: `npm run keyflow -- run examples/dist/src/basic-transformations.js --parallelism 2`.
 */

/** The sensors this example reads: 5 sensors, 40 readings each (200 readings), seeded. */
export const SENSORS: SensorSourceOptions = { sensors: 5, readingsPerSensor: 40, seed: 42 };
/** Readings hotter than this pass the filter, in °F. */
export const THRESHOLD_F = 65;

/** Readings above the threshold, as read (°F). */
export const hotReadings = collectSink<SensorReading>("hot-readings");
/** The same readings in °C. */
export const celsiusReadings = collectSink<SensorReading>("celsius-readings");
/** The parts of the hot readings' sensor ids. */
export const idParts = collectSink<string>("id-parts");

export function fahrenheitToCelsius(fahrenheit: number): number {
  return ((fahrenheit - 32) * 5) / 9;
}

/**
 * The book's SplitIdFlatMap: a flatMap written as an object rather than a lambda (an object can
 * also have `open` and `close`). `flatMap(new SplitIdFlatMap())` checks it against the stream.
 */
export class SplitIdFlatMap {
  flatMap(id: string, out: Collector<string>): void {
    for (const part of id.split("_")) out.collect(part);
  }
}

export interface BasicTransformationsOptions {
  /** Print the Celsius readings. Default true. */
  readonly print?: boolean;
}

export function basicTransformations(options: BasicTransformationsOptions = {}): JobDefinition {
  return defineJob({ name: "basic-transformations" }, (env) => {
    const readings = env.fromSource(sensorSource(SENSORS), "Sensors");

    const hot = readings.filter((r) => r.temperature > THRESHOLD_F).name("AboveThreshold");
    hot.collect(hotReadings);

    const celsius = hot.map((r) => ({ ...r, temperature: fahrenheitToCelsius(r.temperature) })).name("ToCelsius");
    celsius.collect(celsiusReadings);

    const parts = hot
      .map((r) => r.id)
      .name("SensorId")
      .flatMap(new SplitIdFlatMap())
      .name("SplitId");
    parts.collect(idParts);

    if (options.print ?? true) {
      celsius.map((r) => `${r.id} at t=${r.timestamp} ms: ${r.temperature.toFixed(2)} °C`).print();
    }
  });
}

export default basicTransformations();
