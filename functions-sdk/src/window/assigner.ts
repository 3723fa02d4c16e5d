import { InvalidJobError } from "../errors.js";
import { eventTimeTrigger, neverTrigger, processingTimeTrigger, type Trigger } from "./trigger.js";
import { GlobalWindow, TimeWindow, type Window } from "./window.js";

/** What an assigner may read besides the record: processing time for processing-time windows. */
export interface WindowAssignerContext {
  currentProcessingTime(): number;
}

/**
 * How the built-in assigners are made, so the runtime can take a faster path for them (windows
 * as numbers, no object per record). Custom assigners are "custom".
 */
export type AssignerShape =
  | { readonly type: "tumbling"; readonly size: number; readonly offset: number }
  | { readonly type: "sliding"; readonly size: number; readonly slide: number; readonly offset: number }
  | { readonly type: "session" }
  | { readonly type: "global" }
  | { readonly type: "custom" };

/**
 * Puts each record into zero or more windows. `mergeWindows` makes an assigner merging (session
 * windows): after each record, the runtime lets it merge the key's windows and merges their
 * contents and triggers.
 */
export interface WindowAssigner<T, W extends Window> {
  readonly isEventTime: boolean;
  readonly shape: AssignerShape;
  assignWindows(element: T, timestamp: number, ctx: WindowAssignerContext): readonly W[];
  defaultTrigger(): Trigger<T, W>;
  /** For merging assigners: calls `merge(windows, into)` for each group of `windows` that becomes one window. */
  mergeWindows?(windows: readonly W[], merge: (group: readonly W[], into: W) => void): void;
  /** A value that identifies a window among a key's windows (equal windows, equal ids). */
  windowId(window: W): string | number;
}

function positive(where: string, what: string, value: number): void {
  if (!(Number.isFinite(value) && value > 0)) {
    throw new InvalidJobError(where, `window ${what} must be a positive number of milliseconds, got ${value}`);
  }
}

function timeWindowId(window: TimeWindow): string {
  return `${window.start}:${window.end}`;
}

function tumbling<T>(name: string, size: number, offset: number, isEventTime: boolean): WindowAssigner<T, TimeWindow> {
  positive(name, "size", size);
  if (!(Math.abs(offset) < size))
    throw new InvalidJobError(name, `offset ${offset} must be smaller than the size ${size}`);
  return {
    isEventTime,
    shape: { type: "tumbling", size, offset },
    assignWindows(_element, timestamp, ctx) {
      const at = isEventTime ? timestamp : ctx.currentProcessingTime();
      const start = TimeWindow.startOf(at, size, offset);
      return [new TimeWindow(start, start + size)];
    },
    defaultTrigger: () => (isEventTime ? eventTimeTrigger() : processingTimeTrigger()),
    windowId: (window) => window.start,
  };
}

function sliding<T>(
  name: string,
  size: number,
  slide: number,
  offset: number,
  isEventTime: boolean,
): WindowAssigner<T, TimeWindow> {
  positive(name, "size", size);
  positive(name, "slide", slide);
  if (!(Math.abs(offset) < slide)) {
    throw new InvalidJobError(name, `offset ${offset} must be smaller than the slide ${slide}`);
  }
  return {
    isEventTime,
    shape: { type: "sliding", size, slide, offset },
    assignWindows(_element, timestamp, ctx) {
      const at = isEventTime ? timestamp : ctx.currentProcessingTime();
      const windows: TimeWindow[] = [];
      const last = TimeWindow.startOf(at, slide, offset);
      for (let start = last; start > at - size; start -= slide) windows.push(new TimeWindow(start, start + size));
      return windows;
    },
    defaultTrigger: () => (isEventTime ? eventTimeTrigger() : processingTimeTrigger()),
    windowId: (window) => window.start,
  };
}

function session<T>(name: string, gapOf: (element: T) => number, isEventTime: boolean): WindowAssigner<T, TimeWindow> {
  return {
    isEventTime,
    shape: { type: "session" },
    assignWindows(element, timestamp, ctx) {
      const gap = gapOf(element);
      positive(name, "gap", gap);
      const at = isEventTime ? timestamp : ctx.currentProcessingTime();
      return [new TimeWindow(at, at + gap)];
    },
    defaultTrigger: () => (isEventTime ? eventTimeTrigger() : processingTimeTrigger()),
    mergeWindows: mergeTimeWindows,
    windowId: timeWindowId,
  };
}

/** Flink's TimeWindow.mergeWindows: sort by start, sweep, and merge each run of intersecting windows. */
export function mergeTimeWindows(
  windows: readonly TimeWindow[],
  merge: (group: readonly TimeWindow[], into: TimeWindow) => void,
): void {
  const sorted = [...windows].sort((a, b) => a.start - b.start);
  let group: TimeWindow[] = [];
  let cover: TimeWindow | undefined;
  for (const window of sorted) {
    if (cover === undefined) {
      cover = window;
      group = [window];
    } else if (cover.intersects(window)) {
      cover = cover.cover(window);
      group.push(window);
    } else {
      if (group.length > 1) merge(group, cover);
      cover = window;
      group = [window];
    }
  }
  if (cover !== undefined && group.length > 1) merge(group, cover);
}

/** Fixed-size, non-overlapping windows of event time: `tumblingEventTimeWindows(1_000)`. */
export function tumblingEventTimeWindows<T = unknown>(sizeMs: number, offsetMs = 0): WindowAssigner<T, TimeWindow> {
  return tumbling<T>("tumblingEventTimeWindows", sizeMs, offsetMs, true);
}
/** Fixed-size, non-overlapping windows of processing time. */
export function tumblingProcessingTimeWindows<T = unknown>(
  sizeMs: number,
  offsetMs = 0,
): WindowAssigner<T, TimeWindow> {
  return tumbling<T>("tumblingProcessingTimeWindows", sizeMs, offsetMs, false);
}
/** Windows of `sizeMs` starting every `slideMs` of event time; a record belongs to size/slide of them. */
export function slidingEventTimeWindows<T = unknown>(
  sizeMs: number,
  slideMs: number,
  offsetMs = 0,
): WindowAssigner<T, TimeWindow> {
  return sliding<T>("slidingEventTimeWindows", sizeMs, slideMs, offsetMs, true);
}
export function slidingProcessingTimeWindows<T = unknown>(
  sizeMs: number,
  slideMs: number,
  offsetMs = 0,
): WindowAssigner<T, TimeWindow> {
  return sliding<T>("slidingProcessingTimeWindows", sizeMs, slideMs, offsetMs, false);
}
/** Sessions of event time: a window closes after `gapMs` without records of its key. */
export function eventTimeSessionWindows<T = unknown>(gapMs: number): WindowAssigner<T, TimeWindow> {
  positive("eventTimeSessionWindows", "gap", gapMs);
  return session<T>("eventTimeSessionWindows", () => gapMs, true);
}
/** Sessions of event time whose gap is computed from each record. */
export function eventTimeSessionWindowsWithDynamicGap<T>(gapOf: (element: T) => number): WindowAssigner<T, TimeWindow> {
  return session<T>("eventTimeSessionWindowsWithDynamicGap", gapOf, true);
}
export function processingTimeSessionWindows<T = unknown>(gapMs: number): WindowAssigner<T, TimeWindow> {
  positive("processingTimeSessionWindows", "gap", gapMs);
  return session<T>("processingTimeSessionWindows", () => gapMs, false);
}
export function processingTimeSessionWindowsWithDynamicGap<T>(
  gapOf: (element: T) => number,
): WindowAssigner<T, TimeWindow> {
  return session<T>("processingTimeSessionWindowsWithDynamicGap", gapOf, false);
}

const GLOBAL: readonly GlobalWindow[] = [GlobalWindow.instance];

/** One window per key holding every record; it fires only by its trigger (default: never). */
export function globalWindows<T = unknown>(): WindowAssigner<T, GlobalWindow> {
  return {
    isEventTime: false,
    shape: { type: "global" },
    assignWindows: () => GLOBAL,
    defaultTrigger: () => neverTrigger(),
    windowId: () => 0,
  };
}
