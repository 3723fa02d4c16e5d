import type { OnMergeContext, StateDescriptor, StateHandleOf, Window } from "@keyflow/functions-sdk";
import type { KeyedTimerService } from "../time/keyed-timer-service.js";
import { WindowStateStore } from "./namespaced-state.js";

/**
 * The `ctx` of a trigger: timers and state of the current key and window. One object per
 * operator; the operator points it at (key, window) with `at` before each trigger call (the
 * timer service reads the operator's current key). Timers registered here have the window as
 * their namespace, so they come back to the trigger for that window. While a merge runs, the
 * merged-away windows are set, so `mergeState` can fold their state into the new window.
 */
export class WindowTriggerContext implements OnMergeContext {
  /** Trigger state per key, window and name. */
  readonly store = new WindowStateStore("__window/trigger");
  /** @internal The window the trigger is called for. */
  window: Window;
  /** @internal The current key as a Map key. */
  mapKey: unknown;
  /** @internal During `onMerge`: the windows merged into `window`. */
  mergedWindows: readonly Window[] = [];

  constructor(
    private readonly timers: KeyedTimerService<Window>,
    private readonly idOf: (window: Window) => unknown,
    initial: Window,
  ) {
    this.window = initial;
  }

  /** Points the context (and its state) at one window of the current key. */
  at(mapKey: unknown, window: Window): void {
    this.mapKey = mapKey;
    this.window = window;
    this.store.at(mapKey, this.idOf(window));
  }

  currentWatermark(): number {
    return this.timers.currentWatermark;
  }
  currentProcessingTime(): number {
    return this.timers.currentProcessingTime();
  }
  registerEventTimeTimer(timestamp: number): void {
    this.timers.registerEventTimeTimer(this.window, checkTime("registerEventTimeTimer", timestamp));
  }
  registerProcessingTimeTimer(timestamp: number): void {
    this.timers.registerProcessingTimeTimer(this.window, checkTime("registerProcessingTimeTimer", timestamp));
  }
  deleteEventTimeTimer(timestamp: number): void {
    this.timers.deleteEventTimeTimer(this.window, timestamp);
  }
  deleteProcessingTimeTimer(timestamp: number): void {
    this.timers.deleteProcessingTimeTimer(this.window, timestamp);
  }
  state<D extends StateDescriptor>(name: string, descriptor: D): StateHandleOf<D> {
    return this.store.handle(name, descriptor);
  }
  mergeState(name: string, descriptor: StateDescriptor): void {
    const sources = this.mergedWindows.map((window) => this.idOf(window));
    this.store.merge(name, descriptor, this.mapKey, this.idOf(this.window), sources);
  }
}

function checkTime(what: string, timestamp: number): number {
  if (typeof timestamp !== "number" || Number.isNaN(timestamp)) {
    throw new TypeError(`${what} needs a numeric timestamp in ms, got ${String(timestamp)}`);
  }
  return timestamp;
}
