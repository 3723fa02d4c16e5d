import {
  collectSink,
  defineJob,
  type JobDefinition,
  type SensorReading,
  type SensorSourceOptions,
  sensorSource,
} from "@keyflow/functions-sdk";

/**
 * The book's KeyedTransformations (chapter 5): rolling aggregations on a stream keyed by sensor.
 * Each reading updates its sensor's running value and emits it, so the last record per sensor
 * is the final answer.
 *
 * Run it: `npm run keyflow -- run examples/dist/src/keyed-transformations.js --parallelism 2`.
 */

/** The sensors this example reads: 5 sensors, 20 readings each (100 readings), seeded. */
export const SENSORS: SensorSourceOptions = { sensors: 5, readingsPerSensor: 20, seed: 7 };

/** `max("temperature")`: the highest temperature so far; id and timestamp stay those of the sensor's first reading. */
export const maxTemperatures = collectSink<SensorReading>("max-temperatures");
/** The book's reduce: the whole reading with the highest temperature so far (the later one on ties). */
export const hottestReadings = collectSink<SensorReading>("hottest-readings");

export interface KeyedTransformationsOptions {
  /** Print the hottest reading per sensor as it changes. Default true. */
  readonly print?: boolean;
}

export function keyedTransformations(options: KeyedTransformationsOptions = {}): JobDefinition {
  return defineJob({ name: "keyed-transformations" }, (env) => {
    const keyed = env.fromSource(sensorSource(SENSORS), "Sensors").keyBy((r) => r.id);

    keyed.max("temperature").name("MaxTemperature").collect(maxTemperatures);

    const hottest = keyed.reduce((r1, r2) => (r1.temperature > r2.temperature ? r1 : r2)).name("HottestReading");
    hottest.collect(hottestReadings);

    if (options.print ?? true) {
      hottest.map((r) => `${r.id}: hottest so far ${r.temperature.toFixed(2)} °F at t=${r.timestamp} ms`).print();
    }
  });
}

export default keyedTransformations();
