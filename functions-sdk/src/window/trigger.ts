import type { StateDescriptor } from "../state/descriptors.js";
import type { StateHandleOf } from "../state/handles.js";
import type { Window } from "./window.js";

/**
 * What a trigger decides for a window: keep collecting, emit the window's result, drop its
 * contents, or both. Firing does not clear the window unless the result purges; the window is
 * cleared for good when it can no longer fire (its end plus the allowed lateness has passed).
 */
export type TriggerResult = "continue" | "fire" | "purge" | "fireAndPurge";

/**
 * What a trigger may do for the current key and window. Timers set here call the trigger's
 * `onEventTime` / `onProcessingTime` for this window; state is per key and window.
 */
export interface TriggerContext {
  currentWatermark(): number;
  currentProcessingTime(): number;
  registerEventTimeTimer(timestamp: number): void;
  registerProcessingTimeTimer(timestamp: number): void;
  deleteEventTimeTimer(timestamp: number): void;
  deleteProcessingTimeTimer(timestamp: number): void;
  /** State of this trigger for the current key and window, by name. */
  state<D extends StateDescriptor>(name: string, descriptor: D): StateHandleOf<D>;
}

/** When windows merge: state named here is merged into the new window (reducing and aggregating state). */
export interface OnMergeContext extends TriggerContext {
  mergeState(name: string, descriptor: StateDescriptor): void;
}

/**
 * Decides when a window fires. Called on the key's shard, synchronously, with the window's key
 * current. `clear` must delete the timers and state the trigger set for the window.
 *
 * ```ts
 * const early: Trigger<Reading, TimeWindow> = {
 *   onElement(_r, _ts, window, ctx) {
 *     ctx.registerEventTimeTimer(window.maxTimestamp());
 *     return "continue";
 *   },
 *   onEventTime: (time, window) => (time === window.maxTimestamp() ? "fire" : "continue"),
 *   onProcessingTime: () => "continue",
 *   clear(window, ctx) { ctx.deleteEventTimeTimer(window.maxTimestamp()); },
 * };
 * ```
 */
export interface Trigger<T, W extends Window> {
  onElement(element: T, timestamp: number, window: W, ctx: TriggerContext): TriggerResult;
  onEventTime(time: number, window: W, ctx: TriggerContext): TriggerResult;
  onProcessingTime(time: number, window: W, ctx: TriggerContext): TriggerResult;
  /** Whether the trigger supports merging windows (session windows need it). */
  canMerge?(): boolean;
  /** Windows merged into `window`: re-register timers and merge state for it. */
  onMerge?(window: W, ctx: OnMergeContext): void;
  clear(window: W, ctx: TriggerContext): void;
}

/** Fires once the watermark passes the window's end; a late record within the allowed lateness fires it again. */
export function eventTimeTrigger<T = unknown, W extends Window = Window>(): Trigger<T, W> {
  return {
    onElement(_element, _timestamp, window, ctx) {
      if (window.maxTimestamp() <= ctx.currentWatermark()) return "fire";
      ctx.registerEventTimeTimer(window.maxTimestamp());
      return "continue";
    },
    onEventTime: (time, window) => (time === window.maxTimestamp() ? "fire" : "continue"),
    onProcessingTime: () => "continue",
    canMerge: () => true,
    onMerge(window, ctx) {
      if (window.maxTimestamp() > ctx.currentWatermark()) ctx.registerEventTimeTimer(window.maxTimestamp());
    },
    clear(window, ctx) {
      ctx.deleteEventTimeTimer(window.maxTimestamp());
    },
  };
}

/** Fires when processing time passes the window's end. */
export function processingTimeTrigger<T = unknown, W extends Window = Window>(): Trigger<T, W> {
  return {
    onElement(_element, _timestamp, window, ctx) {
      ctx.registerProcessingTimeTimer(window.maxTimestamp());
      return "continue";
    },
    onEventTime: () => "continue",
    onProcessingTime: (time, window) => (time === window.maxTimestamp() ? "fire" : "continue"),
    canMerge: () => true,
    onMerge(window, ctx) {
      if (window.maxTimestamp() > ctx.currentProcessingTime()) ctx.registerProcessingTimeTimer(window.maxTimestamp());
    },
    clear(window, ctx) {
      ctx.deleteProcessingTimeTimer(window.maxTimestamp());
    },
  };
}

const COUNT = { kind: "reducing", reduce: (a: number, b: number) => a + b } as const;

/** Fires every `count` elements of a window (the count restarts after each firing). */
export function countTrigger<T = unknown, W extends Window = Window>(count: number): Trigger<T, W> {
  if (!(Number.isInteger(count) && count > 0))
    throw new RangeError(`countTrigger needs a positive count, got ${count}`);
  return {
    onElement(_element, _timestamp, _window, ctx) {
      const seen = ctx.state("count", COUNT);
      seen.add(1);
      if ((seen.get() ?? 0) >= count) {
        seen.clear();
        return "fire";
      }
      return "continue";
    },
    onEventTime: () => "continue",
    onProcessingTime: () => "continue",
    canMerge: () => true,
    onMerge(_window, ctx) {
      ctx.mergeState("count", COUNT);
    },
    clear(_window, ctx) {
      ctx.state("count", COUNT).clear();
    },
  };
}

/** Never fires (the default of global windows: give them a trigger). */
export function neverTrigger<T = unknown, W extends Window = Window>(): Trigger<T, W> {
  return {
    onElement: () => "continue",
    onEventTime: () => "continue",
    onProcessingTime: () => "continue",
    canMerge: () => true,
    onMerge() {},
    clear() {},
  };
}

/** Turns every firing of `trigger` into fire-and-purge: each result covers only what came since the last. */
export function purgingTrigger<T, W extends Window>(trigger: Trigger<T, W>): Trigger<T, W> {
  const purge = (result: TriggerResult): TriggerResult =>
    result === "fire" || result === "fireAndPurge" ? "fireAndPurge" : result;
  const wrapped: Trigger<T, W> = {
    onElement: (element, timestamp, window, ctx) => purge(trigger.onElement(element, timestamp, window, ctx)),
    onEventTime: (time, window, ctx) => purge(trigger.onEventTime(time, window, ctx)),
    onProcessingTime: (time, window, ctx) => purge(trigger.onProcessingTime(time, window, ctx)),
    canMerge: () => trigger.canMerge?.() ?? false,
    clear: (window, ctx) => trigger.clear(window, ctx),
  };
  if (trigger.onMerge !== undefined) wrapped.onMerge = (window, ctx) => trigger.onMerge?.(window, ctx);
  return wrapped;
}

/**
 * Fires every `intervalMs` of event time while the window is open (early results), and at its end.
 * Flink's ContinuousEventTimeTrigger: the first firing is at the end of the interval that holds the
 * window's first record, the following ones every interval after, never past the window's end.
 * One difference: when event time jumps over several intervals at once, one firing stands for
 * all of them (Flink repeats the same result for each; on a global window at the end of input,
 * when the watermark jumps to the end of time, it would never stop).
 */
export function continuousEventTimeTrigger<T = unknown, W extends Window = Window>(intervalMs: number): Trigger<T, W> {
  if (!(intervalMs > 0))
    throw new RangeError(`continuousEventTimeTrigger needs a positive interval, got ${intervalMs}`);
  // The next early firing; the smallest one wins when windows merge.
  const NEXT = { kind: "reducing", reduce: (a: number, b: number) => Math.min(a, b) } as const;
  const scheduleNext = (time: number, window: W, ctx: TriggerContext): void => {
    const next = Math.min(time + intervalMs, window.maxTimestamp());
    ctx.state("next", NEXT).add(next);
    ctx.registerEventTimeTimer(next);
  };
  return {
    onElement(_element, timestamp, window, ctx) {
      if (window.maxTimestamp() <= ctx.currentWatermark()) return "fire";
      ctx.registerEventTimeTimer(window.maxTimestamp());
      if (ctx.state("next", NEXT).get() === undefined) scheduleNext(timestamp - (timestamp % intervalMs), window, ctx);
      return "continue";
    },
    onEventTime(time, window, ctx) {
      if (time === window.maxTimestamp()) return "fire";
      const next = ctx.state("next", NEXT);
      if (next.get() === time) {
        next.clear();
        // From the interval the watermark is in, so intervals it passed at once do not fire again.
        const watermark = ctx.currentWatermark();
        scheduleNext(Math.max(time, watermark - (watermark % intervalMs)), window, ctx);
        return "fire";
      }
      return "continue";
    },
    onProcessingTime: () => "continue",
    canMerge: () => true,
    onMerge(_window, ctx) {
      ctx.mergeState("next", NEXT);
      const next = ctx.state("next", NEXT).get();
      if (next !== undefined) ctx.registerEventTimeTimer(next);
    },
    clear(window, ctx) {
      ctx.deleteEventTimeTimer(window.maxTimestamp());
      const next = ctx.state("next", NEXT);
      const at = next.get();
      if (at !== undefined) ctx.deleteEventTimeTimer(at);
      next.clear();
    },
  };
}
