import {
  type CoFlatMapFunction,
  type Collector,
  collectSink,
  defineJob,
  type JobDefinition,
  type SensorReading,
  type SensorSourceOptions,
  sensorSource,
} from "@keyflow/functions-sdk";

/**
 * The book's MultiStreamTransformations (chapter 5): temperature readings connected with a
 * stream of smoke levels, raising an alert when the smoke level is high and a sensor is hot;
 * and `union` of the readings of three cities.
 *
 * Every shard of the alert operator sees every smoke level (the smoke stream is broadcast) and
 * the readings of its own sensors (keyed by id). How the two inputs interleave depends on
 * timing, as in Flink, so the number of alerts may differ between runs; every alert is a hot
 * reading seen while the shard's last smoke level was "High".
 *
 * Run it: `npm run keyflow -- run examples/dist/src/multi-stream-transformations.js --parallelism 2`.
 */

export type SmokeLevel = "High" | "Low";

export interface Alert {
  readonly message: string;
  readonly sensorId: string;
  readonly temperature: number;
  readonly timestamp: number;
}

/** The sensors this example reads: 5 sensors, 40 readings each (200 readings), seeded. */
export const SENSORS: SensorSourceOptions = { sensors: 5, readingsPerSensor: 40, seed: 42 };
/** Hotter than this with high smoke is a risk of fire, in °F (the book's 100 °F suits its hotter sensors). */
export const ALERT_THRESHOLD_F = 66;
/** Smoke levels the smoke source emits. */
export const SMOKE_READINGS = 20;
/** The three cities of the union, each its own seeded sensor source (3 sensors, 10 readings each). */
export const CITIES = [
  { name: "paris", sensors: { sensors: 3, readingsPerSensor: 10, seed: 1 } },
  { name: "tokyo", sensors: { sensors: 3, readingsPerSensor: 10, seed: 2 } },
  { name: "rio", sensors: { sensors: 3, readingsPerSensor: 10, seed: 3 } },
] as const satisfies ReadonlyArray<{ name: string; sensors: SensorSourceOptions }>;

export const alerts = collectSink<Alert>("alerts");
/** The readings of every city, ids prefixed by the city ("tokyo/sensor_2"). */
export const allCities = collectSink<SensorReading>("all-cities");

/**
 * The book's RaiseAlertFlatMap: remembers the last smoke level this shard saw (input 2) and
 * alerts on each reading (input 1) above the threshold while it is "High". The level is a plain
 * field, not keyed state: each shard has its own instance, fed every smoke level.
 */
export class RaiseAlertFlatMap implements CoFlatMapFunction<SensorReading, SmokeLevel, Alert> {
  private smokeLevel: SmokeLevel;

  constructor(
    private readonly threshold: number,
    initialLevel: SmokeLevel = "Low",
  ) {
    this.smokeLevel = initialLevel;
  }

  flatMap1(reading: SensorReading, out: Collector<Alert>): void {
    if (this.smokeLevel === "High" && reading.temperature > this.threshold) {
      out.collect({
        message: "Risk of fire!",
        sensorId: reading.id,
        temperature: reading.temperature,
        timestamp: reading.timestamp,
      });
    }
  }

  flatMap2(level: SmokeLevel, _out: Collector<Alert>): void {
    this.smokeLevel = level;
  }
}

export interface MultiStreamTransformationsOptions {
  /** Print the alerts. Default true. */
  readonly print?: boolean;
  /**
   * Chance that a smoke level is "High". Default 0.2, as the book's `nextGaussian() > 0.8`
   * (0.21); 0 and 1 make the smoke stream constant.
   */
  readonly highSmokeChance?: number;
  /** The smoke level each alert shard assumes before the first one arrives. Default "Low", as in the book. */
  readonly initialSmokeLevel?: SmokeLevel;
  /**
   * Pace the sources in processing time as the book does, so the two streams interleave: 20
   * rounds of readings and 10 smoke levels a second (about 2 s in all). Default true; false
   * emits as fast as possible, which is fine when the smoke level is constant.
   */
  readonly paced?: boolean;
}

export function multiStreamTransformations(options: MultiStreamTransformationsOptions = {}): JobDefinition {
  const highSmokeChance = options.highSmokeChance ?? 0.2;
  const paced = options.paced ?? true;
  return defineJob({ name: "multi-stream-transformations" }, (env) => {
    const temperatures = env.fromSource(sensorSource(paced ? { ...SENSORS, roundsPerSecond: 20 } : SENSORS), "Sensors");
    // The book's SmokeLevelSource: one non-parallel source of random levels.
    const smokeLevels = env
      .generate<SmokeLevel>(
        {
          count: SMOKE_READINGS,
          seed: 5,
          make: (_i, random) => (random.next() < highSmokeChance ? "High" : "Low"),
          ...(paced ? { ratePerSecond: 10 } : {}),
        },
        "SmokeLevels",
      )
      .setParallelism(1);

    const raised = temperatures
      .keyBy((r) => r.id)
      .connect(smokeLevels.broadcast())
      .flatMap(new RaiseAlertFlatMap(ALERT_THRESHOLD_F, options.initialSmokeLevel))
      .name("RaiseAlert");
    raised.collect(alerts);

    // The book's union: three streams of one type become one.
    const [paris, tokyo, rio] = CITIES.map((city) =>
      env
        .fromSource(sensorSource(city.sensors), city.name)
        .map((r) => ({ ...r, id: `${city.name}/${r.id}` }))
        .name(`Tag(${city.name})`),
    );
    paris.union(tokyo, rio).collect(allCities);

    if (options.print ?? true) {
      raised.map((a) => `${a.message} ${a.sensorId} at ${a.temperature.toFixed(2)} °F, t=${a.timestamp} ms`).print();
    }
  });
}

export default multiStreamTransformations();
