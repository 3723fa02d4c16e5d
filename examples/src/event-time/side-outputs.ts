import {
  type Collector,
  collectSink,
  defineJob,
  type JobDefinition,
  type OutputTag,
  outputTag,
  type ProcessContext,
  type ProcessFunction,
  type SensorReading,
  type SensorSourceOptions,
  type Source,
  sensorSource,
} from "@keyflow/functions-sdk";

/**
 * The book's SideOutputs (chapter 6): a process function that forwards every reading and sends
 * a freezing alarm for each reading below 32 °F to a side output.
 *
 * Run it: `npm run keyflow -- run examples/dist/src/event-time/side-outputs.js`.
 */

/** Below this, in °F, a reading raises a freezing alarm. */
export const FREEZING_F = 32;

export const freezingAlarmOutput: OutputTag<string> = outputTag<string>("freezing-alarms");

/** The book's FreezingMonitor: readings pass through; each one below freezing also raises an alarm on the side. */
export class FreezingMonitor implements ProcessFunction<SensorReading, SensorReading> {
  processElement(reading: SensorReading, ctx: ProcessContext, out: Collector<SensorReading>): void {
    if (reading.temperature < FREEZING_F) ctx.output(freezingAlarmOutput, `Freezing Alarm for ${reading.id}`);
    out.collect(reading);
  }
}

export const monitoredReadings = collectSink<SensorReading>("monitored-readings");
export const freezingAlarms = collectSink<string>("freezing-alarms");

/**
 * 10 sensors, 1000 readings each. The walks start at 65 °F and move half a degree a step, so it
 * takes a long walk to freeze: with this seed, sensor_2 dips below 32 °F for 25 readings.
 */
export const SENSORS: SensorSourceOptions = { sensors: 10, readingsPerSensor: 1_000, seed: 11 };

export interface SideOutputsOptions {
  readonly source?: () => Source<SensorReading>;
  readonly print?: boolean;
}

export function sideOutputs(options: SideOutputsOptions = {}): JobDefinition {
  const source = options.source ?? (() => sensorSource(SENSORS));
  return defineJob({ name: "side-outputs" }, (env) => {
    const monitored = env.fromSource(source(), "Sensors").process(new FreezingMonitor()).name("FreezingMonitor");
    monitored.collect(monitoredReadings);
    const alarms = monitored.getSideOutput(freezingAlarmOutput);
    alarms.collect(freezingAlarms);
    if (options.print ?? true) alarms.print();
  });
}

export default sideOutputs();
