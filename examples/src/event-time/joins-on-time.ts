import {
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
 * The book's "Joining Streams on Time" (chapter 6), on two thermometers at every sensor
 * position: A reads every 100 ms, B (a second make, for calibration) every 250 ms.
 * - window join: `a.join(b).where(id).equalTo(id).window(tumbling 1 s).apply(fn)` pairs every A
 *   reading with every B reading of the same sensor in the same second (the cross product per
 *   window and key, as in the book's figure);
 * - interval join: `a.keyBy(id).intervalJoin(b.keyBy(id)).between(-1000, 500)` pairs each A
 *   reading at t with the B readings of its sensor taken in [t − 1 s, t + 500 ms].
 * (`examples/src/joins/sensor-joins.ts` shows the interval join with a lookback only, and coGroup.)
 *
 * Run it: `npm run keyflow -- run examples/dist/src/event-time/joins-on-time.js --parallelism 2`.
 */

export const THERMOMETER_A: SensorSourceOptions = { sensors: 3, readingsPerSensor: 40, intervalMs: 100, seed: 21 };
export const THERMOMETER_B: SensorSourceOptions = { sensors: 3, readingsPerSensor: 16, intervalMs: 250, seed: 22 };
export const WINDOW_MS = 1_000;
export const LOWER_BOUND_MS = -1_000;
export const UPPER_BOUND_MS = 500;

/** A pair of readings of one sensor: when each was taken and how far apart they are, in °F. */
export interface ReadingPair {
  readonly id: string;
  readonly aAt: number;
  readonly bAt: number;
  readonly difference: number;
}

function pair(a: SensorReading, b: SensorReading): ReadingPair {
  return {
    id: a.id,
    aAt: a.timestamp,
    bAt: b.timestamp,
    difference: Math.round((a.temperature - b.temperature) * 100) / 100,
  };
}

/** The interval join's function: one pair per A reading and B reading within the bounds. */
export const pairWithinInterval: ProcessJoinFunction<SensorReading, SensorReading, ReadingPair> = {
  processElement(a, b, _ctx, out) {
    out.collect(pair(a, b));
  },
};

export const windowPairs = collectSink<ReadingPair>("window-join-pairs");
export const intervalPairs = collectSink<ReadingPair>("interval-join-pairs");

export interface JoinsOnTimeOptions {
  readonly print?: boolean;
}

export function joinsOnTime(options: JoinsOnTimeOptions = {}): JobDefinition {
  return defineJob({ name: "joins-on-time" }, (env) => {
    // Each reader emits its readings in timestamp order: the watermark follows the largest timestamp.
    const inOrder = WatermarkStrategy.forMonotonousTimestamps<SensorReading>();
    const a = env.fromSource(sensorSource(THERMOMETER_A), "ThermometerA", inOrder);
    const b = env.fromSource(sensorSource(THERMOMETER_B), "ThermometerB", inOrder);

    const byWindow = a
      .join(b)
      .where((r) => r.id)
      .equalTo((r) => r.id)
      .window(tumblingEventTimeWindows(WINDOW_MS))
      .apply(pair);
    byWindow.collect(windowPairs);

    const byInterval = a
      .keyBy((r) => r.id)
      .intervalJoin(b.keyBy((r) => r.id))
      .between(LOWER_BOUND_MS, UPPER_BOUND_MS)
      .process(pairWithinInterval);
    byInterval.collect(intervalPairs);

    if (options.print ?? true) {
      byInterval.map((p) => `${p.id}: A at ${p.aAt} ms is ${p.difference} °F above B at ${p.bAt} ms`).print();
    }
  });
}

export default joinsOnTime();
