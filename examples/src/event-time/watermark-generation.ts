import {
  type Collector,
  collectSink,
  defineJob,
  type JobDefinition,
  type ProcessContext,
  type ProcessFunction,
  type SensorReading,
  type SensorSourceOptions,
  type Source,
  sensorSource,
  type WatermarkGenerator,
  WatermarkStrategy,
} from "@keyflow/functions-sdk";

/**
 * The book's WatermarkGeneration (chapter 6): two custom watermark generators given to
 * `WatermarkStrategy.forGenerator`, one periodic and one punctuated, and what a downstream
 * operator sees of them: each reading tagged with the watermark current when it arrived.
 *
 * Run it: `npm run keyflow -- run examples/dist/src/event-time/watermark-generation.js`.
 */

/** The book's PeriodicAssigner: the watermark trails the largest timestamp seen by `boundMs`, emitted every auto-watermark interval. */
export function periodicAssigner(boundMs: number): WatermarkGenerator<SensorReading> {
  let maxTimestamp = Number.NEGATIVE_INFINITY;
  return {
    onEvent(_reading, timestamp) {
      maxTimestamp = Math.max(maxTimestamp, timestamp);
    },
    onPeriodicEmit(output) {
      // Nothing seen yet: no watermark (the book's emits Long.MinValue − bound, which means the same).
      if (maxTimestamp !== Number.NEGATIVE_INFINITY) output.emitWatermark(maxTimestamp - boundMs);
    },
  };
}

/**
 * The book's PunctuatedAssigner: a watermark `boundMs` behind each reading of sensor_1, emitted
 * right after that reading; other sensors' readings move event time on not at all.
 */
export function punctuatedAssigner(boundMs: number, sensorId = "sensor_1"): WatermarkGenerator<SensorReading> {
  return {
    onEvent(reading, timestamp, output) {
      if (reading.id === sensorId) output.emitWatermark(timestamp - boundMs);
    },
    onPeriodicEmit() {},
  };
}

/** A reading and the watermark of the operator that received it (−Infinity before the first). */
export interface ReadingWithWatermark {
  readonly reading: SensorReading;
  readonly watermark: number;
}

/** Tags each reading with the current watermark: what the generator had emitted by the time it arrived. */
export class TagWithWatermark implements ProcessFunction<SensorReading, ReadingWithWatermark> {
  processElement(reading: SensorReading, ctx: ProcessContext, out: Collector<ReadingWithWatermark>): void {
    out.collect({ reading, watermark: ctx.currentWatermark() });
  }
}

export const periodicTagged = collectSink<ReadingWithWatermark>("periodic-watermarks");
export const punctuatedTagged = collectSink<ReadingWithWatermark>("punctuated-watermarks");

/** 5 sensors, 50 readings each, 100 ms of event time apart: 5 s of event time. */
export const SENSORS: SensorSourceOptions = { sensors: 5, readingsPerSensor: 50, seed: 6 };

export interface WatermarkGenerationOptions {
  /** How far the watermark trails, in ms. Default 1000 (the book uses a minute, on hours of data). */
  readonly boundMs?: number;
  /**
   * The readings of each pipeline; default `sensorSource(SENSORS)` paced at 20 rounds a second, so
   * periodic watermarks fall between readings as they would on a live stream.
   */
  readonly source?: (pipeline: "periodic" | "punctuated") => Source<SensorReading>;
  /** Print each reading with its watermark. Default true. */
  readonly print?: boolean;
}

export function watermarkGeneration(options: WatermarkGenerationOptions = {}): JobDefinition {
  const boundMs = options.boundMs ?? 1_000;
  const source = options.source ?? (() => sensorSource({ ...SENSORS, roundsPerSecond: 20 }));
  return defineJob({ name: "watermark-generation" }, (env) => {
    const periodic = env
      .fromSource(
        source("periodic"),
        "PeriodicSensors",
        WatermarkStrategy.forGenerator(() => periodicAssigner(boundMs)).withTimestampAssigner((r) => r.timestamp),
      )
      .setParallelism(1)
      .process(new TagWithWatermark())
      .name("TagPeriodic")
      .setParallelism(1);
    periodic.collect(periodicTagged);

    const punctuated = env
      .fromSource(
        source("punctuated"),
        "PunctuatedSensors",
        WatermarkStrategy.forGenerator(() => punctuatedAssigner(boundMs)).withTimestampAssigner((r) => r.timestamp),
      )
      .setParallelism(1)
      .process(new TagWithWatermark())
      .name("TagPunctuated")
      .setParallelism(1);
    punctuated.collect(punctuatedTagged);

    if (options.print ?? true) {
      punctuated
        .map(({ reading, watermark }) => `punctuated: ${reading.id} t=${reading.timestamp} watermark=${watermark}`)
        .print();
    }
  });
}

export default watermarkGeneration();
