import {
  type Collector,
  collectSink,
  defineJob,
  type JobDefinition,
  type OutputTag,
  outputTag,
  type ProcessContext,
  type ProcessFunction,
  type ProcessWindowContext,
  type ProcessWindowFunction,
  SeededRandom,
  type SensorReading,
  type SensorSourceOptions,
  type Source,
  sensorSource,
  type TimeWindow,
  tumblingEventTimeWindows,
  valueState,
  WatermarkStrategy,
} from "@keyflow/functions-sdk";

/**
 * The book's LateDataHandling (chapter 6): readings whose timestamps are shuffled back by up to
 * a few seconds, so some arrive after the watermark passed their window. Counted per sensor over
 * tumbling windows of event time in two ways:
 * - late readings go to a side output (`sideOutputLateData`) instead of being dropped;
 * - windows are kept a while longer (`allowedLateness`), and a late reading updates its window's
 *   result: the first result of a window says "first", each later one "update"
 *   (UpdatingWindowCountFunction, which remembers per window, in `windowState`, that it fired).
 *
 * And the book's first way, before any window: a process function comparing each reading's
 * timestamp with the current watermark (LateReadingsFilter).
 *
 * Run it: `npm run keyflow -- run examples/dist/src/event-time/late-data.js`.
 */

export const WINDOW_MS = 1_000;
/** The watermark trails the largest timestamp by this much: readings shuffled further back may be late. */
export const OUT_OF_ORDERNESS_MS = 500;
/** How long windows are kept after their end for late readings to update them, in ms of event time. */
export const ALLOWED_LATENESS_MS = 2_000;
/**
 * Readings are moved back in event time by up to this much: twice the watermark's bound, as the
 * book's TimestampShuffler moves them by up to 7 s against a 5 s bound.
 */
export const MAX_SHUFFLE_MS = 1_000;

/** One result of a window: its sensor and end, how many readings it counted, and whether it is the first result or an update. */
export interface WindowCountUpdate {
  readonly id: string;
  readonly windowEnd: number;
  readonly count: number;
  readonly kind: "first" | "update";
}

/** A window's reading count, emitted once per window. */
export interface WindowCountResult {
  readonly id: string;
  readonly windowEnd: number;
  readonly count: number;
}

export const lateReadingsOutput: OutputTag<SensorReading> = outputTag<SensorReading>("late-readings");

/** The book's CountFunction of this example: readings per window. */
export class CountFunction implements ProcessWindowFunction<SensorReading, WindowCountResult, string, TimeWindow> {
  process(
    id: string,
    ctx: ProcessWindowContext<TimeWindow, Record<never, never>, Record<never, never>>,
    readings: readonly SensorReading[],
    out: Collector<WindowCountResult>,
  ): void {
    out.collect({ id, windowEnd: ctx.window.end, count: readings.length });
  }
}

/** The book's LateReadingsFilter: a reading behind the current watermark goes to the side output, the others pass. */
export class LateReadingsFilter implements ProcessFunction<SensorReading, SensorReading> {
  processElement(reading: SensorReading, ctx: ProcessContext, out: Collector<SensorReading>): void {
    if (reading.timestamp < ctx.currentWatermark()) ctx.output(lateReadingsOutput, reading);
    else out.collect(reading);
  }
}

const updateState = { isUpdate: valueState<boolean>() };

/** The book's UpdatingWindowCountFunction: per-window state tells a window's first firing from its updates. */
export class UpdatingWindowCountFunction
  implements ProcessWindowFunction<SensorReading, WindowCountUpdate, string, TimeWindow, typeof updateState>
{
  readonly windowState = updateState;

  process(
    id: string,
    ctx: ProcessWindowContext<TimeWindow, typeof updateState, Record<never, never>>,
    readings: readonly SensorReading[],
    out: Collector<WindowCountUpdate>,
  ): void {
    const isUpdate = ctx.windowState.isUpdate;
    if (isUpdate.value() !== true) {
      out.collect({ id, windowEnd: ctx.window.end, count: readings.length, kind: "first" });
      isUpdate.update(true);
    } else {
      out.collect({ id, windowEnd: ctx.window.end, count: readings.length, kind: "update" });
    }
  }
}

/**
 * The book's TimestampShuffler as a source wrapper: each reading's timestamp moves back by a
 * seeded random amount below `maxShuffleMs`, so readings arrive out of order.
 */
export function shuffledTimestamps(
  source: Source<SensorReading>,
  maxShuffleMs: number,
  seed = 1,
): Source<SensorReading> {
  return {
    createReader(context) {
      const random = new SeededRandom(seed + context.shardIndex);
      const reader = source.createReader(context);
      return {
        poll(output, max) {
          return reader.poll(
            {
              collect(reading) {
                const timestamp = reading.timestamp - random.nextInt(maxShuffleMs);
                output.collect({ ...reading, timestamp }, timestamp);
              },
            },
            max,
          );
        },
        close: () => reader.close?.(),
      };
    },
  };
}

export const onTimeReadings = collectSink<SensorReading>("on-time-readings");
export const filteredLateReadings = collectSink<SensorReading>("filtered-late-readings");
export const countsWithoutLateReadings = collectSink<WindowCountResult>("counts-without-late-readings");
export const lateReadings = collectSink<SensorReading>("late-readings");
export const updatingCounts = collectSink<WindowCountUpdate>("updating-counts");

/** 5 sensors, 100 readings each 100 ms apart (10 s of event time), before shuffling. */
export const SENSORS: SensorSourceOptions = { sensors: 5, readingsPerSensor: 100, roundsPerSecond: 20, seed: 8 };

export interface LateDataOptions {
  /** The readings, already out of order; default the sensor source shuffled by up to MAX_SHUFFLE_MS. */
  readonly source?: () => Source<SensorReading>;
  /** Default: bounded out-of-orderness of OUT_OF_ORDERNESS_MS. */
  readonly watermarks?: WatermarkStrategy<SensorReading>;
  readonly print?: boolean;
}

export function lateData(options: LateDataOptions = {}): JobDefinition {
  const source = options.source ?? (() => shuffledTimestamps(sensorSource(SENSORS), MAX_SHUFFLE_MS));
  const watermarks =
    options.watermarks ??
    WatermarkStrategy.forBoundedOutOfOrderness<SensorReading>(OUT_OF_ORDERNESS_MS).withTimestampAssigner(
      (r) => r.timestamp,
    );
  return defineJob({ name: "late-data" }, (env) => {
    const readings = env.fromSource(source(), "ShuffledSensors", watermarks).setParallelism(1);
    const keyed = readings.keyBy((r) => r.id);

    const filtered = readings.process(new LateReadingsFilter()).name("LateReadingsFilter").setParallelism(1);
    filtered.collect(onTimeReadings);
    filtered.getSideOutput(lateReadingsOutput).collect(filteredLateReadings);

    const counts = keyed
      .window(tumblingEventTimeWindows(WINDOW_MS))
      .sideOutputLateData(lateReadingsOutput)
      .process(new CountFunction())
      .name("CountPerWindow");
    counts.collect(countsWithoutLateReadings);
    const late = counts.getSideOutput(lateReadingsOutput);
    late.collect(lateReadings);

    const updating = keyed
      .window(tumblingEventTimeWindows(WINDOW_MS))
      .allowedLateness(ALLOWED_LATENESS_MS)
      .process(new UpdatingWindowCountFunction())
      .name("UpdatingCountPerWindow");
    updating.collect(updatingCounts);

    if (options.print ?? true) {
      late.map((r) => `late: ${r.id} t=${r.timestamp}`).print();
      updating.map((c) => `${c.id} window ending ${c.windowEnd}: ${c.count} readings (${c.kind})`).print();
    }
  });
}

export default lateData();
