import {
  type Collector,
  collectSink,
  defineJob,
  type JobDefinition,
  type ProcessJoinFunction,
  type SensorReading,
  type SensorSourceOptions,
  sensorSource,
  tumblingEventTimeWindows,
  WatermarkStrategy,
} from "@keyflow/functions-sdk";

/**
 * Joining streams on time (the book's chapter 6): every sensor has an indoor thermometer,
 * read every 100 ms, and an outdoor one, read every 250 ms.
 *
 * - `sensorJoins()` interval-joins each indoor reading with the outdoor readings of the same
 *   sensor taken up to 250 ms before it, and reports how much warmer it is inside.
 * - `sensorCoGroups()` coGroups both per sensor and second: the average of each side's readings
 *   in that second (a side without readings gives no average).
 *
 * Run it: `npm run keyflow -- run examples/dist/src/joins/sensor-joins.js --parallelism 2`.
 */

export const INDOOR: SensorSourceOptions = { sensors: 4, readingsPerSensor: 50, intervalMs: 100, seed: 3 };
/**
 * Starts a second (and 40 ms) after the indoor readings, so the two never share a timestamp and
 * the first and last seconds have readings of one side only.
 */
export const OUTDOOR: SensorSourceOptions = {
  sensors: 4,
  readingsPerSensor: 20,
  intervalMs: 250,
  startTime: 1_040,
  seed: 9,
};
/** How far back an outdoor reading may be to pair with an indoor one, in ms. */
export const LOOKBACK_MS = 250;

export interface Difference {
  readonly id: string;
  readonly indoorAt: number;
  readonly outdoorAt: number;
  /** Indoor minus outdoor temperature, °F, two decimals. */
  readonly warmerInside: number;
}

export interface SecondSummary {
  readonly id: string;
  /** The second's start, in ms of event time. */
  readonly second: number;
  readonly indoor: number | undefined;
  readonly outdoor: number | undefined;
}

export const differences = collectSink<Difference>("differences");
export const summaries = collectSink<SecondSummary>("summaries");

/** Each reader's readings in timestamp order: the watermark follows the largest timestamp. */
const inOrder = WatermarkStrategy.forMonotonousTimestamps<SensorReading>();

/** The join function: one Difference per indoor reading and outdoor reading within the lookback. */
export const compare: ProcessJoinFunction<SensorReading, SensorReading, Difference> = {
  processElement(indoor, outdoor, ctx, out: Collector<Difference>) {
    out.collect({
      id: indoor.id,
      indoorAt: ctx.leftTimestamp,
      outdoorAt: ctx.rightTimestamp,
      warmerInside: Math.round((indoor.temperature - outdoor.temperature) * 100) / 100,
    });
  },
};

export interface SensorJoinsOptions {
  /** Print the results. Default true. */
  readonly print?: boolean;
}

export function sensorJoins(options: SensorJoinsOptions = {}): JobDefinition {
  return defineJob({ name: "sensor-joins" }, (env) => {
    const indoor = env.fromSource(sensorSource(INDOOR), "Indoor", inOrder);
    const outdoor = env.fromSource(sensorSource(OUTDOOR), "Outdoor", inOrder);
    const joined = indoor
      .keyBy((r) => r.id)
      .intervalJoin(outdoor.keyBy((r) => r.id))
      .between(-LOOKBACK_MS, 0)
      .process(compare);
    joined.collect(differences);
    if (options.print ?? true) {
      joined
        .map((d) => `${d.id} at ${d.indoorAt} ms: ${d.warmerInside} °F warmer inside than at ${d.outdoorAt} ms`)
        .print();
    }
  });
}

export function sensorCoGroups(options: SensorJoinsOptions = {}): JobDefinition {
  return defineJob({ name: "sensor-cogroups" }, (env) => {
    const indoor = env.fromSource(sensorSource(INDOOR), "Indoor", inOrder);
    const outdoor = env.fromSource(sensorSource(OUTDOOR), "Outdoor", inOrder);
    const perSecond = indoor
      .coGroup(outdoor)
      .where((r) => r.id)
      .equalTo((r) => r.id)
      .window(tumblingEventTimeWindows(1_000))
      .apply((ins, outs, out: Collector<SecondSummary>) => {
        const first = ins[0] ?? (outs[0] as SensorReading);
        out.collect({
          id: first.id,
          second: first.timestamp - (first.timestamp % 1_000),
          indoor: average(ins),
          outdoor: average(outs),
        });
      });
    perSecond.collect(summaries);
    if (options.print ?? true) perSecond.print();
  });
}

/** The average temperature, two decimals; undefined for no readings. */
export function average(readings: readonly SensorReading[]): number | undefined {
  if (readings.length === 0) return undefined;
  const sum = readings.reduce((total, r) => total + r.temperature, 0);
  return Math.round((sum / readings.length) * 100) / 100;
}

export default sensorJoins();
