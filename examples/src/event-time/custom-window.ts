import {
  type Collector,
  collectSink,
  defineJob,
  eventTimeTrigger,
  type JobDefinition,
  type ProcessWindowContext,
  type ProcessWindowFunction,
  type SensorReading,
  type SensorSourceOptions,
  type Source,
  sensorSource,
  TimeWindow,
  type Trigger,
  type TriggerContext,
  type TriggerResult,
  valueState,
  WatermarkStrategy,
  type WindowAssigner,
} from "@keyflow/functions-sdk";

/**
 * The book's CustomWindow (chapter 6): a hand-written window assigner (tumbling windows, the
 * book's ThirtySecondsWindows, five seconds long here), a trigger that fires early once a second
 * of event time and finally at the window's end (OneSecondIntervalTrigger), and a process window
 * function that reports each firing: the window's end, the watermark when it fired, and how many
 * readings the window held (CountFunction).
 *
 * Run it: `npm run keyflow -- run examples/dist/src/event-time/custom-window.js`.
 */

export const WINDOW_MS = 5_000;
export const EARLY_FIRING_MS = 1_000;

/** The book's ThirtySecondsWindows, `sizeMs` long: each reading goes to the one window holding its timestamp. */
export function fixedSizeWindows(sizeMs: number): WindowAssigner<SensorReading, TimeWindow> {
  return {
    isEventTime: true,
    shape: { type: "custom" },
    assignWindows(_reading, timestamp) {
      const start = timestamp - (((timestamp % sizeMs) + sizeMs) % sizeMs);
      return [new TimeWindow(start, start + sizeMs)];
    },
    defaultTrigger: () => eventTimeTrigger<SensorReading, TimeWindow>(),
    windowId: (window) => window.start,
  };
}

/** The next whole `intervalMs` of event time after `watermark`: where the next early firing goes. */
export function nextFiring(watermark: number, window: TimeWindow, intervalMs: number): number {
  // Before the first watermark, the first early firing is at the window's start.
  const base = Number.isFinite(watermark) ? watermark : window.start - 1;
  return base - (((base % intervalMs) + intervalMs) % intervalMs) + intervalMs;
}

const EARLY_TIMER = valueState<number>();

/**
 * The book's OneSecondIntervalTrigger. The first reading of a window registers an early firing at
 * the next whole second of event time after the watermark, and the window's end. Each early firing
 * emits what the window holds so far and registers the next (while before the end); the end fires
 * and purges. The book stores a "firstSeen" flag; the early timer's time serves as that flag here,
 * so `clear` can delete the pending early timer too.
 */
export class OneSecondIntervalTrigger implements Trigger<SensorReading, TimeWindow> {
  constructor(private readonly intervalMs = EARLY_FIRING_MS) {}

  onElement(_reading: SensorReading, _timestamp: number, window: TimeWindow, ctx: TriggerContext): TriggerResult {
    const early = ctx.state("earlyTimer", EARLY_TIMER);
    if (early.value() === undefined) {
      const t = nextFiring(ctx.currentWatermark(), window, this.intervalMs);
      if (t < window.maxTimestamp()) {
        ctx.registerEventTimeTimer(t);
        early.update(t);
      } else {
        early.update(Number.POSITIVE_INFINITY);
      }
      ctx.registerEventTimeTimer(window.maxTimestamp());
    }
    return "continue";
  }

  onEventTime(timestamp: number, window: TimeWindow, ctx: TriggerContext): TriggerResult {
    if (timestamp === window.maxTimestamp()) return "fireAndPurge";
    const early = ctx.state("earlyTimer", EARLY_TIMER);
    const t = nextFiring(ctx.currentWatermark(), window, this.intervalMs);
    if (t < window.maxTimestamp()) {
      ctx.registerEventTimeTimer(t);
      early.update(t);
    } else {
      early.update(Number.POSITIVE_INFINITY);
    }
    return "fire";
  }

  onProcessingTime(): TriggerResult {
    return "continue";
  }

  clear(window: TimeWindow, ctx: TriggerContext): void {
    const early = ctx.state("earlyTimer", EARLY_TIMER);
    const t = early.value();
    if (t !== undefined && Number.isFinite(t)) ctx.deleteEventTimeTimer(t);
    ctx.deleteEventTimeTimer(window.maxTimestamp());
    early.clear();
  }
}

/** One firing of a window: its sensor and end, the watermark when it fired, and how many readings it held. */
export interface WindowCount {
  readonly id: string;
  readonly windowEnd: number;
  readonly watermark: number;
  readonly count: number;
}

/** The book's CountFunction. */
export class CountFunction implements ProcessWindowFunction<SensorReading, WindowCount, string, TimeWindow> {
  process(
    id: string,
    ctx: ProcessWindowContext<TimeWindow, Record<never, never>, Record<never, never>>,
    readings: readonly SensorReading[],
    out: Collector<WindowCount>,
  ): void {
    out.collect({ id, windowEnd: ctx.window.end, watermark: ctx.currentWatermark(), count: readings.length });
  }
}

export const windowCounts = collectSink<WindowCount>("window-counts");

/** 3 sensors, 150 readings each 100 ms apart: 15 s of event time, three windows per sensor. */
export const SENSORS: SensorSourceOptions = { sensors: 3, readingsPerSensor: 150, roundsPerSecond: 30, seed: 4 };

export interface CustomWindowOptions {
  readonly source?: () => Source<SensorReading>;
  /** Default: bounded out-of-orderness of one second. */
  readonly watermarks?: WatermarkStrategy<SensorReading>;
  readonly print?: boolean;
}

export function customWindow(options: CustomWindowOptions = {}): JobDefinition {
  const source = options.source ?? (() => sensorSource(SENSORS));
  const watermarks =
    options.watermarks ??
    WatermarkStrategy.forBoundedOutOfOrderness<SensorReading>(1_000).withTimestampAssigner((r) => r.timestamp);
  return defineJob({ name: "custom-window" }, (env) => {
    const counts = env
      .fromSource(source(), "Sensors", watermarks)
      .keyBy((r) => r.id)
      .window(fixedSizeWindows(WINDOW_MS))
      .trigger(new OneSecondIntervalTrigger())
      .process(new CountFunction())
      .name("CountPerWindow");
    counts.collect(windowCounts);
    if (options.print ?? true) {
      counts
        .map((c) => `${c.id} window ending ${c.windowEnd}: ${c.count} readings at watermark ${c.watermark}`)
        .print();
    }
  });
}

export default customWindow();
