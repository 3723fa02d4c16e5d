import {
  type Collector,
  collectSink,
  defineJob,
  type JobDefinition,
  type KeyedContext,
  type KeyedProcessFunction,
  type OnTimerContext,
  type SensorReading,
  type SensorSourceOptions,
  type Source,
  sensorSource,
  valueState,
} from "@keyflow/functions-sdk";

/**
 * The book's ProcessFunctionTimers (chapter 6): a keyed process function that raises an alert
 * when a sensor's temperature has risen monotonically for one second of processing time.
 *
 * Run it: `npm run keyflow -- run examples/dist/src/event-time/process-function-timers.js`.
 */

const alertState = {
  /** The sensor's last temperature (unset before its first reading). */
  lastTemp: valueState<number>(),
  /** When the pending alert timer fires, in ms of processing time (unset: no timer). */
  currentTimer: valueState<number>(),
};

/** The keyed state of TempIncreaseAlertFunction. */
export type AlertState = typeof alertState;

/** How long a rise must last before it is an alert, in ms of processing time. */
export const RISE_MS = 1_000;

/**
 * The book's TempIncreaseAlertFunction. The first rise after a reset starts a timer one second
 * ahead; a drop deletes it; further rises leave it alone. When it fires, the temperature has not
 * dropped for a whole second. A reading at the same temperature neither starts nor stops a rise.
 */
export class TempIncreaseAlertFunction
  implements KeyedProcessFunction<string, SensorReading, string, typeof alertState>
{
  readonly state = alertState;

  processElement(reading: SensorReading, ctx: KeyedContext<string, typeof alertState>, _out: Collector<string>): void {
    const prevTemp = ctx.state.lastTemp.value();
    ctx.state.lastTemp.update(reading.temperature);
    const currentTimer = ctx.state.currentTimer.value();
    if (prevTemp === undefined || reading.temperature < prevTemp) {
      // First reading or a drop: whatever rise was being timed is over.
      if (currentTimer !== undefined) ctx.timerService.deleteProcessingTimeTimer(currentTimer);
      ctx.state.currentTimer.clear();
    } else if (reading.temperature > prevTemp && currentTimer === undefined) {
      const timerTs = ctx.timerService.currentProcessingTime() + RISE_MS;
      ctx.timerService.registerProcessingTimeTimer(timerTs);
      ctx.state.currentTimer.update(timerTs);
    }
  }

  onTimer(_timestamp: number, ctx: OnTimerContext<string, typeof alertState>, out: Collector<string>): void {
    out.collect(`Temperature of sensor '${ctx.key}' monotonically increased for 1 second.`);
    ctx.state.currentTimer.clear();
  }
}

export const alerts = collectSink<string>("temperature-alerts");

/** 10 sensors, 100 readings each, 10 rounds a second (each sensor reads every 100 ms): a 10-second run. */
export const SENSORS: SensorSourceOptions = { sensors: 10, readingsPerSensor: 100, roundsPerSecond: 10, seed: 3 };

export interface ProcessFunctionTimersOptions {
  /** The readings; default `sensorSource(SENSORS)`, paced in processing time as the book's source is. */
  readonly source?: () => Source<SensorReading>;
  /** The alert function; tests pass a subclass that counts what it processed. */
  readonly alertFunction?: () => TempIncreaseAlertFunction;
  readonly print?: boolean;
}

export function processFunctionTimers(options: ProcessFunctionTimersOptions = {}): JobDefinition {
  const source = options.source ?? (() => sensorSource(SENSORS));
  const alertFunction = options.alertFunction ?? (() => new TempIncreaseAlertFunction());
  return defineJob({ name: "process-function-timers" }, (env) => {
    const warnings = env
      .fromSource(source(), "Sensors")
      .keyBy((r) => r.id)
      .process(alertFunction())
      .name("TempIncreaseAlert");
    warnings.collect(alerts);
    if (options.print ?? true) warnings.print();
  });
}

export default processFunctionTimers();
