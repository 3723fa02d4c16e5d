import {
  type Collector,
  collectionSource,
  collectSink,
  defineJob,
  type JobDefinition,
  type KeyedContext,
  type KeyedCoProcessFunction,
  type OnTimerContext,
  type SensorReading,
  type SensorSourceOptions,
  type Source,
  sensorSource,
  valueState,
} from "@keyflow/functions-sdk";

/**
 * The book's CoProcessFunctionTimers (chapter 6): readings pass a filter only while a "filter
 * switch" for their sensor is on; each switch turns forwarding on for a while, and a
 * processing-time timer turns it off again.
 *
 * Run it: `npm run keyflow -- run examples/dist/src/event-time/co-process-function-timers.js`.
 */

/** Forward the readings of `sensorId` for `durationMs` of processing time from when the switch arrives. */
export interface FilterSwitch {
  readonly sensorId: string;
  readonly durationMs: number;
}

const filterState = {
  /** Whether this sensor's readings are forwarded now (unset: no). */
  forwardingEnabled: valueState<boolean>(),
  /** When forwarding stops, in ms of processing time (unset: no timer). */
  disableTimer: valueState<number>(),
};

/** The keyed state of ReadingFilter. */
export type FilterState = typeof filterState;

/**
 * The book's ReadingFilter. A switch enables forwarding and moves the disable timer later when it
 * asks for longer than the pending one (a shorter switch does not cut the pending one short).
 */
export class ReadingFilter
  implements KeyedCoProcessFunction<string, SensorReading, FilterSwitch, SensorReading, typeof filterState>
{
  readonly state = filterState;

  processElement1(
    reading: SensorReading,
    ctx: KeyedContext<string, typeof filterState>,
    out: Collector<SensorReading>,
  ): void {
    if (ctx.state.forwardingEnabled.value() === true) out.collect(reading);
  }

  processElement2(filterSwitch: FilterSwitch, ctx: KeyedContext<string, typeof filterState>): void {
    ctx.state.forwardingEnabled.update(true);
    const timerTimestamp = ctx.timerService.currentProcessingTime() + filterSwitch.durationMs;
    const currentTimer = ctx.state.disableTimer.value();
    if (currentTimer === undefined || timerTimestamp > currentTimer) {
      if (currentTimer !== undefined) ctx.timerService.deleteProcessingTimeTimer(currentTimer);
      ctx.timerService.registerProcessingTimeTimer(timerTimestamp);
      ctx.state.disableTimer.update(timerTimestamp);
    }
  }

  onTimer(_timestamp: number, ctx: OnTimerContext<string, typeof filterState>): void {
    ctx.state.forwardingEnabled.clear();
    ctx.state.disableTimer.clear();
  }
}

export const forwardedReadings = collectSink<SensorReading>("forwarded-readings");

/** 10 sensors, 10 rounds a second for 8 seconds. */
export const SENSORS: SensorSourceOptions = { sensors: 10, readingsPerSensor: 80, roundsPerSecond: 10, seed: 5 };
/** The book's switches: sensor_2 for 10 seconds, sensor_7 for a minute (the run ends first). */
export const SWITCHES: readonly FilterSwitch[] = [
  { sensorId: "sensor_2", durationMs: 10_000 },
  { sensorId: "sensor_7", durationMs: 60_000 },
];

export interface CoProcessFunctionTimersOptions {
  readonly readings?: () => Source<SensorReading>;
  readonly switches?: () => Source<FilterSwitch>;
  /** The filter; tests pass a subclass that counts what it processed. */
  readonly filter?: () => ReadingFilter;
  readonly print?: boolean;
}

export function coProcessFunctionTimers(options: CoProcessFunctionTimersOptions = {}): JobDefinition {
  const readings = options.readings ?? (() => sensorSource(SENSORS));
  const switches = options.switches ?? (() => collectionSource(SWITCHES));
  const filter = options.filter ?? (() => new ReadingFilter());
  return defineJob({ name: "co-process-function-timers" }, (env) => {
    const forwarded = env
      .fromSource(readings(), "Sensors")
      .connect(env.fromSource(switches(), "FilterSwitches").setParallelism(1))
      .keyBy(
        (r) => r.id,
        (s) => s.sensorId,
      )
      .process(filter())
      .name("ReadingFilter");
    forwarded.collect(forwardedReadings);
    if (options.print ?? true) forwarded.print();
  });
}

export default coProcessFunctionTimers();
