import {
  describeRecord,
  GlobalWindow,
  type Key,
  type Trigger,
  type TriggerResult,
  type Window,
  type WindowAssignerContext,
  type WindowSpec,
} from "@keyflow/functions-sdk";
import type { OperatorContext } from "../operator/operator.js";
import { keyOfMapKey, mapKeyOf } from "../partition/canonical-key.js";
import { StateNotSnapshottableError } from "../state/errors.js";
import { TimerServiceState } from "../state/timer-state.js";
import { TrackedMapState } from "../state/tracked-map-state.js";
import { KeyedTimerService } from "../time/keyed-timer-service.js";
import type { InternalTimer } from "../time/timer-queue.js";
import { ChangeTracker } from "../util/change-tracker.js";
import { WindowMergeError } from "./errors.js";
import { MergingWindowSet } from "./merging-window-set.js";
import { WindowTriggerContext } from "./trigger-context.js";
import { decodeWindow, encodeWindow, WINDOW_NAMESPACE } from "./window-codec.js";
import { END_OF_TIME, WindowOperatorBase, type WindowOperatorCounts } from "./window-operator-base.js";
import { WindowTable } from "./window-table.js";

type MergeCallback = (group: readonly Window[], into: Window) => void;

/**
 * The window operator for any assigner, trigger and evictor (Flink's WindowOperator and
 * EvictingWindowOperator): per record, the assigner's windows (merged with the key's in-flight
 * windows for session assigners), the contents per (key, window), the trigger's decision on
 * each element and timer, and a cleanup timer per window at its end plus the allowed lateness.
 * Timers have the window as their namespace. With a merging assigner, contents live under the
 * state window the key's MergingWindowSet maps each window to; trigger state and timers under
 * the window itself.
 *
 * Checkpoints: contents ("__window/contents"), trigger state ("__window/trigger"), the process
 * window function's per-window and global state ("__window/state", its declared names), timers
 * with their windows, and the merging sets ("__window/merging": per key, [window, state window]
 * pairs). Windows go into snapshots as [start, end] or "global" (window-codec.ts).
 */
export class WindowOperator extends WindowOperatorBase {
  private readonly trigger: Trigger<unknown, Window>;
  private readonly timers: KeyedTimerService<Window>;
  private readonly triggerContext: WindowTriggerContext;
  private readonly contents = new WindowTable<unknown>("__window/contents");
  /** Per key (as a Map key): the in-flight windows of a merging assigner; undefined for other assigners. */
  private readonly mergingSets: Map<unknown, MergingWindowSet<Window>> | undefined;
  private readonly mergeWindows: ((windows: readonly Window[], merge: MergeCallback) => void) | undefined;
  private readonly idOf: (window: Window) => unknown;
  private readonly assignerContext: WindowAssignerContext;
  /** The key of the record whose windows are merging (read by `mergeInto`). */
  private mergingMapKey: unknown;
  /** Changes of the merging sets, per key (for checkpoints); undefined for other assigners. */
  private mergingTracker: ChangeTracker<MergingWindowSet<Window>> | undefined;

  constructor(context: OperatorContext, spec: WindowSpec) {
    super(context, spec);
    const assigner = spec.assigner;
    this.trigger = spec.trigger ?? assigner.defaultTrigger();
    this.idOf = (window) => assigner.windowId(window);
    this.timers = new KeyedTimerService<Window>({
      maxParallelism: context.runtime.maxParallelism,
      processingTime: context.processingTime,
      currentKey: () => this.currentKey,
      namespaceId: this.idOf,
      onEventTime: (timer) => this.onTimer(timer, "event"),
      onProcessingTime: (timer) => this.onTimer(timer, "processing"),
    });
    this.triggerContext = new WindowTriggerContext(this.timers, this.idOf, GlobalWindow.instance);
    const mergeWindows = assigner.mergeWindows;
    if (mergeWindows !== undefined) {
      this.mergeWindows = (windows, merge) => mergeWindows.call(assigner, windows, merge);
      this.mergingSets = new Map();
    }
    this.assignerContext = { currentProcessingTime: () => context.processingTime.now() };
    const maxParallelism = context.runtime.maxParallelism;
    this.checkpointState([
      this.contents.checkpointed(maxParallelism),
      this.triggerContext.store.checkpointed(maxParallelism),
      ...this.runner.checkpointed(),
      new TimerServiceState(this.timers, WINDOW_NAMESPACE, maxParallelism),
      ...(this.mergingSets === undefined ? [] : [this.mergingSetsState(this.mergingSets, maxParallelism)]),
    ]);
  }

  /** The merging sets as keyed state "__window/merging": per key, its in-flight windows and their state windows. */
  private mergingSetsState(
    sets: Map<unknown, MergingWindowSet<Window>>,
    maxParallelism: number,
  ): TrackedMapState<MergingWindowSet<Window>> {
    this.mergingTracker = new ChangeTracker<MergingWindowSet<Window>>(
      sets,
      (set) => set.copy(),
      (key, cause) => StateNotSnapshottableError.of("__window/merging", keyOfMapKey(key), cause),
    );
    return new TrackedMapState<MergingWindowSet<Window>>({
      state: "__window/merging",
      tracker: this.mergingTracker,
      maxParallelism,
      encode: (set) => set.entries().map(([window, stateWindow]) => [encodeWindow(window), encodeWindow(stateWindow)]),
      restore: (mapKey, encoded) => {
        const set = this.newMergingSet();
        for (const [window, stateWindow] of encoded as Array<[unknown, unknown]>) {
          set.restore(decodeWindow(window), decodeWindow(stateWindow));
        }
        sets.set(mapKey, set);
      },
    });
  }

  private newMergingSet(): MergingWindowSet<Window> {
    return new MergingWindowSet(this.mergeWindows as NonNullable<typeof this.mergeWindows>, this.idOf);
  }

  counts(): WindowOperatorCounts {
    let mergingWindows = 0;
    for (const set of this.mergingSets?.values() ?? []) mergingWindows += set.size;
    return {
      contents: this.contents.size,
      triggerState: this.triggerContext.store.size,
      windowState: this.runner.windowStore.size,
      mergingWindows,
      eventTimers: this.timers.eventTimerCount,
      processingTimers: this.timers.processingTimerCount,
    };
  }

  processRecord(value: unknown, timestamp: number): void {
    if (this.assigner.isEventTime && !Number.isFinite(timestamp)) throw this.invalidTimestamp(value, timestamp);
    try {
      const key = this.selector(value) as Key;
      this.currentKey = key;
      const mapKey = mapKeyOf(key);
      const windows = this.assigner.assignWindows(value, timestamp, this.assignerContext);
      const taken =
        this.mergingSets === undefined
          ? this.addToWindows(key, mapKey, windows, value, timestamp)
          : this.addToMergingWindows(key, mapKey, windows, value, timestamp);
      if (!taken && this.isRecordLate(timestamp)) this.late(value, timestamp);
    } catch (error) {
      throw error instanceof WindowMergeError ? error : this.failure(error, value);
    }
  }

  protected advanceTimers(watermark: number): void {
    this.timers.advanceWatermark(watermark);
  }
  protected disposeTimers(): void {
    this.timers.dispose();
  }

  /** Returns false when every window was late. */
  private addToWindows(
    key: Key,
    mapKey: unknown,
    windows: readonly Window[],
    value: unknown,
    timestamp: number,
  ): boolean {
    let taken = false;
    for (const window of windows) {
      if (this.isWindowLate(window.maxTimestamp())) continue;
      taken = true;
      const id = this.idOf(window);
      this.contents.set(mapKey, id, this.runner.add(this.contents.get(mapKey, id), value, timestamp));
      this.triggerContext.at(mapKey, window);
      const result = this.trigger.onElement(value, timestamp, window, this.triggerContext);
      this.act(result, key, mapKey, window, id);
      this.registerCleanupTimer(window);
    }
    return taken;
  }

  private addToMergingWindows(
    key: Key,
    mapKey: unknown,
    windows: readonly Window[],
    value: unknown,
    timestamp: number,
  ): boolean {
    const sets = this.mergingSets as Map<unknown, MergingWindowSet<Window>>;
    const tracker = this.mergingTracker as ChangeTracker<MergingWindowSet<Window>>;
    let set = sets.get(mapKey);
    if (tracker.tracking) {
      if (set === undefined) tracker.change(mapKey);
      else tracker.changeOnce(mapKey, set);
    }
    if (set === undefined) {
      set = this.newMergingSet();
      sets.set(mapKey, set);
    }
    this.mergingMapKey = mapKey;
    let taken = false;
    try {
      for (const window of windows) {
        const actual = set.addWindow(window, this.mergeInto);
        if (this.isWindowLate(actual.maxTimestamp())) {
          set.retire(actual);
          continue;
        }
        taken = true;
        const stateId = this.idOf(set.stateWindowOf(actual) as Window);
        this.contents.set(mapKey, stateId, this.runner.add(this.contents.get(mapKey, stateId), value, timestamp));
        this.triggerContext.at(mapKey, actual);
        const result = this.trigger.onElement(value, timestamp, actual, this.triggerContext);
        this.act(result, key, mapKey, actual, stateId);
        this.registerCleanupTimer(actual);
      }
    } finally {
      if (set.size === 0) sets.delete(mapKey);
    }
    return taken;
  }

  /**
   * Windows of the current key merged into `result` (Flink's merge function): the trigger merges
   * its timers and state into the result, the merged-away windows' triggers and cleanup timers
   * are cleared, and the merged state windows' contents go into the result's state window.
   */
  private readonly mergeInto = (
    result: Window,
    mergedWindows: readonly Window[],
    stateWindow: Window,
    mergedStateWindows: readonly Window[],
  ): void => {
    const mapKey = this.mergingMapKey;
    this.checkMergeResult(result);
    const ctx = this.triggerContext;
    ctx.at(mapKey, result);
    ctx.mergedWindows = mergedWindows;
    try {
      this.trigger.onMerge?.(result, ctx);
    } finally {
      ctx.mergedWindows = [];
    }
    const resultId = this.idOf(result);
    for (const merged of mergedWindows) {
      ctx.at(mapKey, merged);
      this.trigger.clear(merged, ctx);
      const mergedId = this.idOf(merged);
      if (mergedId !== resultId) ctx.store.clearWindow(mapKey, mergedId);
      this.deleteCleanupTimer(merged);
    }
    let moved: unknown;
    for (const source of mergedStateWindows) {
      const contents = this.contents.delete(mapKey, this.idOf(source));
      if (contents !== undefined) moved = moved === undefined ? contents : this.runner.merge(moved, contents);
    }
    if (moved === undefined) return;
    const targetId = this.idOf(stateWindow);
    const target = this.contents.get(mapKey, targetId);
    this.contents.set(mapKey, targetId, target === undefined ? moved : this.runner.merge(target, moved));
  };

  /** A merge must not produce a window that already ended (only a custom merging assigner could). */
  private checkMergeResult(result: Window): void {
    const end = result.maxTimestamp();
    const problem = this.assigner.isEventTime
      ? this.cleanupTime(end) <= this.currentWatermark
        ? `it ends (plus the allowed lateness) at or before the watermark ${this.currentWatermark}`
        : undefined
      : end <= this.currentProcessingTime()
        ? `it ends at or before the current processing time ${this.currentProcessingTime()}`
        : undefined;
    if (problem !== undefined) {
      throw new WindowMergeError(
        this.node.name,
        this.shardName,
        describeRecord(this.currentKey),
        String(result),
        problem,
      );
    }
  }

  /** Does what the trigger decided for `window`, whose contents are under `stateId`. */
  private act(result: TriggerResult, key: Key, mapKey: unknown, window: Window, stateId: unknown): void {
    if (result === "continue") return;
    if (result === "fire" || result === "fireAndPurge") {
      const contents = this.contents.get(mapKey, stateId);
      if (contents !== undefined) {
        const kept = this.runner.fire(key, mapKey, window, this.idOf(window), contents);
        if (kept === undefined) this.contents.delete(mapKey, stateId);
        else if (kept !== contents) this.contents.set(mapKey, stateId, kept);
        else if (this.runner.mode === "evicting") this.contents.touch(mapKey); // evicted in place
      }
    }
    if (result === "purge" || result === "fireAndPurge") this.contents.delete(mapKey, stateId);
  }

  private onTimer(timer: InternalTimer<Window>, domain: "event" | "processing"): void {
    const key = timer.key as Key;
    const window = timer.namespace;
    this.currentKey = key;
    const mapKey = mapKeyOf(key);
    const set = this.mergingSets?.get(mapKey);
    let stateWindow: Window | undefined = window;
    if (this.mergingSets !== undefined) {
      stateWindow = set?.stateWindowOf(window);
      // A timer of a window that was merged away or cleaned up, which its trigger did not delete.
      if (stateWindow === undefined) return;
    }
    try {
      const ctx = this.triggerContext;
      ctx.at(mapKey, window);
      const result =
        domain === "event"
          ? this.trigger.onEventTime(timer.timestamp, window, ctx)
          : this.trigger.onProcessingTime(timer.timestamp, window, ctx);
      this.act(result, key, mapKey, window, this.idOf(stateWindow));
      const cleanupDomain = this.assigner.isEventTime ? "event" : "processing";
      if (domain === cleanupDomain && timer.timestamp === this.cleanupTime(window.maxTimestamp())) {
        this.clearAllState(key, mapKey, window, stateWindow, set);
      }
    } catch (error) {
      throw this.failure(error, this.describeTimer(domain, timer.timestamp, String(window), key));
    }
  }

  /** The window is over for good: its contents, trigger state, function state and merging-set entry go. */
  private clearAllState(
    key: Key,
    mapKey: unknown,
    window: Window,
    stateWindow: Window,
    set: MergingWindowSet<Window> | undefined,
  ): void {
    this.contents.delete(mapKey, this.idOf(stateWindow));
    const ctx = this.triggerContext;
    ctx.at(mapKey, window);
    this.trigger.clear(window, ctx);
    // State a trigger forgot in `clear` would outlive its window forever.
    ctx.store.clearWindow(mapKey, this.idOf(window));
    this.runner.clear(key, mapKey, window, this.idOf(window));
    if (set !== undefined) {
      const tracker = this.mergingTracker as ChangeTracker<MergingWindowSet<Window>>;
      if (tracker.tracking) tracker.changeOnce(mapKey, set);
      set.retire(window);
      if (set.size === 0) this.mergingSets?.delete(mapKey);
    }
  }

  private registerCleanupTimer(window: Window): void {
    const time = this.cleanupTime(window.maxTimestamp());
    if (time >= END_OF_TIME) return;
    if (this.assigner.isEventTime) this.timers.registerEventTimeTimer(window, time);
    else this.timers.registerProcessingTimeTimer(window, time);
  }

  private deleteCleanupTimer(window: Window): void {
    const time = this.cleanupTime(window.maxTimestamp());
    if (time >= END_OF_TIME) return;
    if (this.assigner.isEventTime) this.timers.deleteEventTimeTimer(window, time);
    else this.timers.deleteProcessingTimeTimer(window, time);
  }
}
