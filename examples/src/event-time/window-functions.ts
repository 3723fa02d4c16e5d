import {
  type AggregateFunction,
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
 * The book's WindowFunctions (chapter 6): the same tumbling windows of event time computed four
 * ways — the lowest temperature by `reduce`, the average by an `AggregateFunction`, lowest and
 * highest by a `ProcessWindowFunction` over all of a window's readings
 * (HighAndLowTempProcessFunction), and the same by an incremental `reduce` whose one result a
 * `ProcessWindowFunction` stamps with the window's end (AssignWindowEndProcessFunction).
 *
 * Run it: `npm run keyflow -- run examples/dist/src/event-time/window-functions.js --parallelism 2`.
 */

type NoState = Record<never, never>;

/** Lowest and highest temperature of one sensor in the window ending at `endTs`. */
export interface MinMaxTemp {
  readonly id: string;
  readonly min: number;
  readonly max: number;
  readonly endTs: number;
}

/** A sensor's (id, temperature) pair, as in the book's `reduce` example. */
export interface IdTemperature {
  readonly id: string;
  readonly temperature: number;
}

/** The book's AvgTempFunction: the accumulator is (id, sum, count). */
export const avgTempFunction: AggregateFunction<SensorReading, [string, number, number], IdTemperature> = {
  createAccumulator: () => ["", 0, 0],
  add: (r, [, sum, count]) => [r.id, sum + r.temperature, count + 1],
  getResult: ([id, sum, count]) => ({ id, temperature: sum / count }),
  merge: ([id, sumA, countA], [, sumB, countB]) => [id, sumA + sumB, countA + countB],
};

/** The book's HighAndLowTempProcessFunction: sees every reading of the window at once. */
export class HighAndLowTempProcessFunction
  implements ProcessWindowFunction<SensorReading, MinMaxTemp, string, TimeWindow>
{
  process(
    id: string,
    ctx: ProcessWindowContext<TimeWindow, NoState, NoState>,
    readings: readonly SensorReading[],
    out: Collector<MinMaxTemp>,
  ): void {
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (const r of readings) {
      min = Math.min(min, r.temperature);
      max = Math.max(max, r.temperature);
    }
    out.collect({ id, min, max, endTs: ctx.window.end });
  }
}

/** (id, min, max) folded incrementally, one reading at a time. */
export type IdMinMax = readonly [id: string, min: number, max: number];

/** The book's AssignWindowEndProcessFunction: gets the one pre-reduced (id, min, max) and adds the window's end. */
export class AssignWindowEndProcessFunction implements ProcessWindowFunction<IdMinMax, MinMaxTemp, string, TimeWindow> {
  process(
    id: string,
    ctx: ProcessWindowContext<TimeWindow, NoState, NoState>,
    minMaxIt: readonly IdMinMax[],
    out: Collector<MinMaxTemp>,
  ): void {
    const [, min, max] = minMaxIt[0] as IdMinMax;
    out.collect({ id, min, max, endTs: ctx.window.end });
  }
}

export const minTemps = collectSink<IdTemperature>("min-temperature-per-window");
export const avgTemps = collectSink<IdTemperature>("average-temperature-per-window");
export const minMaxTemps = collectSink<MinMaxTemp>("min-max-per-window");
export const minMaxTempsIncremental = collectSink<MinMaxTemp>("min-max-per-window-incremental");

/** 5 sensors, 120 readings each 100 ms apart: 12 s of event time. */
export const SENSORS: SensorSourceOptions = { sensors: 5, readingsPerSensor: 120, seed: 9 };
/** The windows: the book uses 15 s for min and average and 5 s for min-max; 5 s for all here, on 12 s of readings. */
export const WINDOW_MS = 5_000;

export interface WindowFunctionsOptions {
  readonly source?: () => Source<SensorReading>;
  readonly print?: boolean;
}

export function windowFunctions(options: WindowFunctionsOptions = {}): JobDefinition {
  const source = options.source ?? (() => sensorSource(SENSORS));
  return defineJob({ name: "window-functions" }, (env) => {
    const readings = env.fromSource(
      source(),
      "Sensors",
      WatermarkStrategy.forBoundedOutOfOrderness<SensorReading>(1_000).withTimestampAssigner((r) => r.timestamp),
    );

    readings
      .map((r): IdTemperature => ({ id: r.id, temperature: r.temperature }))
      .keyBy((r) => r.id)
      .window(tumblingEventTimeWindows(WINDOW_MS))
      .reduce((r1, r2) => ({ id: r1.id, temperature: Math.min(r1.temperature, r2.temperature) }))
      .name("MinTemperature")
      .collect(minTemps);

    readings
      .keyBy((r) => r.id)
      .window(tumblingEventTimeWindows(WINDOW_MS))
      .aggregate(avgTempFunction)
      .name("AverageTemperature")
      .collect(avgTemps);

    const minMax = readings
      .keyBy((r) => r.id)
      .window(tumblingEventTimeWindows(WINDOW_MS))
      .process(new HighAndLowTempProcessFunction())
      .name("HighAndLowTemp");
    minMax.collect(minMaxTemps);

    readings
      .map((r): IdMinMax => [r.id, r.temperature, r.temperature])
      .keyBy(([id]) => id)
      .window(tumblingEventTimeWindows(WINDOW_MS))
      .reduce(
        (r1: IdMinMax, r2: IdMinMax): IdMinMax => [r1[0], Math.min(r1[1], r2[1]), Math.max(r1[2], r2[2])],
        new AssignWindowEndProcessFunction(),
      )
      .name("HighAndLowTempIncremental")
      .collect(minMaxTempsIncremental);

    if (options.print ?? true) {
      minMax.map((m) => `${m.id} window ending ${m.endTs}: min ${m.min} °F, max ${m.max} °F`).print();
    }
  });
}

export default windowFunctions();
