import { type AggregateFunction, type Key, TimeWindow, type WindowSpec } from "@keyflow/functions-sdk";
import type { OperatorContext } from "../operator/operator.js";
import { keyOfMapKey, mapKeyOf } from "../partition/canonical-key.js";
import { copyValue } from "../state/copy-value.js";
import { StateNotSnapshottableError } from "../state/errors.js";
import { TrackedMapState } from "../state/tracked-map-state.js";
import { type ChangeHolder, ChangeTracker } from "../util/change-tracker.js";
import { KeysByTime } from "./keys-by-time.js";
import { END_OF_TIME, WindowOperatorBase, type WindowOperatorCounts } from "./window-operator-base.js";

type Aggregate = AggregateFunction<unknown, unknown, unknown>;

/** A key's windows (start -> reduced value or accumulator), remembering when its key was last recorded as changed. */
class KeyWindows extends Map<number, unknown> implements ChangeHolder {
  changedIn = -1;
}

/**
 * The fast path for the most common windows: tumbling or sliding event-time windows with the
 * default (event-time) trigger, no evictor, and an incremental reduce or aggregate (optionally
 * handed to a process window function). Same results as WindowOperator, with less work per
 * record:
 * - window starts are computed arithmetically (no TimeWindow and no array per record);
 * - contents are a Map per key from window start to the reduced value or accumulator;
 * - timers (the window's end, and its cleanup when there is allowed lateness) are registered
 *   only when a (key, window) entry is created, which is what the event-time trigger's
 *   registration on every record amounts to; they are kept as lists of keys per timestamp
 *   (KeysByTime), since the timestamp says which window is due: no timer object and no key
 *   group hash per window. They follow from the contents (every entry has its end and cleanup
 *   timers until they fire), so snapshots need not store them;
 * - TimeWindow objects are made only when a window fires through a process window function.
 *
 * Checkpoints: keyed state "__window/aligned", per key `[[start, contents, fired], ...]`, where
 * `fired` says the window's end passed the watermark at the mark (it fired, and waits for its
 * cleanup within the allowed lateness); firing marks the key changed. On restore the end and
 * cleanup timers are rebuilt from the contents. The process window function's state goes as in
 * WindowOperator.
 */
export class AlignedWindowOperator extends WindowOperatorBase {
  private readonly size: number;
  private readonly slide: number;
  private readonly offset: number;
  private readonly aggregate: Aggregate | undefined;
  private readonly reduce: ((a: unknown, b: unknown) => unknown) | undefined;
  /** Keys by the end (max timestamp) of a window of theirs that has not fired yet. */
  private readonly fireAt = new KeysByTime();
  /** With allowed lateness: keys by the cleanup time of a window of theirs (with none, windows go when they fire). */
  private readonly cleanAt = new KeysByTime();
  /** Per key (as a Map key): window start -> reduced value or accumulator. */
  private readonly byKey = new Map<unknown, KeyWindows>();
  private readonly tracker: ChangeTracker<KeyWindows>;
  private entries = 0;

  constructor(context: OperatorContext, spec: WindowSpec) {
    super(context, spec);
    const shape = spec.assigner.shape;
    if (shape.type !== "tumbling" && shape.type !== "sliding") {
      throw new TypeError(`the aligned window operator needs tumbling or sliding windows, got ${shape.type}`);
    }
    this.size = shape.size;
    this.slide = shape.type === "sliding" ? shape.slide : shape.size;
    this.offset = shape.offset;
    this.aggregate = this.runner.aggregate;
    this.reduce = this.runner.reduce;
    this.tracker = new ChangeTracker<KeyWindows>(
      this.byKey,
      (windows) => {
        const copy = new KeyWindows();
        for (const [start, contents] of windows) copy.set(start, copyValue(contents));
        return copy;
      },
      (key, cause) => StateNotSnapshottableError.of("__window/aligned", keyOfMapKey(key), cause),
    );
    this.checkpointState([this.contentsState(context.runtime.maxParallelism), ...this.runner.checkpointed()]);
  }

  /** The contents as keyed state, with each window's fired flag at the mark; restoring rebuilds the timers. */
  private contentsState(maxParallelism: number): TrackedMapState<KeyWindows, number> {
    const size = this.size;
    return new TrackedMapState<KeyWindows, number>({
      state: "__window/aligned",
      tracker: this.tracker,
      maxParallelism,
      atMark: () => this.currentWatermark,
      encode: (windows, _mapKey, watermark) =>
        Array.from(windows, ([start, contents]) => [start, contents, start + size - 1 <= watermark]),
      restore: (mapKey, encoded) => {
        const key = keyOfMapKey(mapKey);
        const windows = new KeyWindows();
        for (const [start, contents, fired] of encoded as Array<[number, unknown, boolean]>) {
          windows.set(start, contents);
          this.entries++;
          const maxTimestamp = start + size - 1;
          if (!fired) this.fireAt.add(maxTimestamp, key);
          if (this.lateness > 0) {
            const cleanup = this.cleanupTime(maxTimestamp);
            if (cleanup < END_OF_TIME) this.cleanAt.add(cleanup, key);
          }
        }
        this.byKey.set(mapKey, windows);
      },
    });
  }

  counts(): WindowOperatorCounts {
    return {
      contents: this.entries,
      triggerState: 0,
      windowState: this.runner.windowStore.size,
      mergingWindows: 0,
      eventTimers: this.fireAt.size + this.cleanAt.size,
      processingTimers: 0,
    };
  }

  processRecord(value: unknown, timestamp: number): void {
    if (!Number.isFinite(timestamp)) throw this.invalidTimestamp(value, timestamp);
    const size = this.size;
    const slide = this.slide;
    const lateness = this.lateness;
    const watermark = this.currentWatermark;
    const aggregate = this.aggregate;
    let taken = false;
    try {
      const key = this.selector(value) as Key;
      const mapKey = mapKeyOf(key);
      let windows = this.byKey.get(mapKey);
      // Before accumulators change in place: a snapshot being read keeps the key's windows as they were.
      if (this.tracker.tracking) {
        if (windows === undefined) this.tracker.change(mapKey);
        else this.tracker.changeOnce(mapKey, windows);
      }
      const lastStart = TimeWindow.startOf(timestamp, slide, this.offset);
      for (let start = lastStart; start > timestamp - size; start -= slide) {
        const maxTimestamp = start + size - 1;
        if (maxTimestamp + lateness <= watermark) continue; // a late window
        taken = true;
        if (windows === undefined) {
          windows = new KeyWindows();
          this.byKey.set(mapKey, windows);
        }
        const current = windows.get(start);
        let next: unknown;
        if (current === undefined) {
          next = aggregate === undefined ? value : aggregate.add(value, aggregate.createAccumulator());
          this.created(key, maxTimestamp, watermark);
        } else {
          next =
            aggregate === undefined
              ? (this.reduce as (a: unknown, b: unknown) => unknown)(current, value)
              : aggregate.add(value, current);
        }
        if (next !== current) windows.set(start, next);
        // Within the allowed lateness after the window's end: the event-time trigger fires it again now.
        if (maxTimestamp <= watermark) this.fire(key, mapKey, start, next);
      }
    } catch (error) {
      throw this.failure(error, value);
    }
    if (!taken) this.late(value, timestamp);
  }

  /** Fires the windows that ended by `watermark` and drops those past their cleanup time, in time order. */
  protected advanceTimers(watermark: number): void {
    for (;;) {
      const fireTime = this.fireAt.peek();
      const cleanTime = this.cleanAt.peek();
      const time = Math.min(fireTime, cleanTime);
      if (time > watermark) return;
      const firing = fireTime <= cleanTime;
      const keys = (firing ? this.fireAt : this.cleanAt).take();
      const start = firing ? time - this.size + 1 : time - this.lateness - this.size + 1;
      for (let i = 0; i < keys.length; i++) this.onTimer(keys[i] as Key, start, time, firing);
    }
  }
  protected disposeTimers(): void {}

  /** A new (key, window): its end timer (unless it already ended) and its cleanup timer. */
  private created(key: Key, maxTimestamp: number, watermark: number): void {
    this.entries++;
    if (maxTimestamp > watermark) this.fireAt.add(maxTimestamp, key);
    if (this.lateness > 0) {
      const cleanup = this.cleanupTime(maxTimestamp);
      if (cleanup < END_OF_TIME) this.cleanAt.add(cleanup, key);
    }
  }

  /** The window of `key` starting at `start` ended (`firing`), or is past its cleanup time. */
  private onTimer(key: Key, start: number, time: number, firing: boolean): void {
    const mapKey = mapKeyOf(key);
    const windows = this.byKey.get(mapKey);
    if (this.tracker.tracking) {
      // Fired, or cleaned up.
      if (windows === undefined) this.tracker.change(mapKey);
      else this.tracker.changeOnce(mapKey, windows);
    }
    try {
      if (firing) {
        const contents = windows?.get(start);
        if (contents !== undefined) this.fire(key, mapKey, start, contents);
      }
      // Without allowed lateness a window is cleaned up when it fires.
      if (!firing || this.lateness === 0) this.cleanup(key, mapKey, start, windows);
    } catch (error) {
      const window = `TimeWindow[${start}, ${start + this.size})`;
      throw this.failure(error, this.describeTimer("event", time, window, key));
    }
  }

  private fire(key: Key, mapKey: unknown, start: number, contents: unknown): void {
    if (this.runner.process === undefined) {
      const result = this.aggregate === undefined ? contents : this.aggregate.getResult(contents);
      this.output.collect(result, start + this.size - 1);
    } else {
      this.runner.fire(key, mapKey, new TimeWindow(start, start + this.size), start, contents);
    }
  }

  private cleanup(key: Key, mapKey: unknown, start: number, windows: Map<number, unknown> | undefined): void {
    if (windows?.delete(start)) {
      this.entries--;
      if (windows.size === 0) this.byKey.delete(mapKey);
    }
    const process = this.runner.process;
    if (process === undefined) return;
    // A TimeWindow only for a `clear` that reads it; window state goes either way.
    if (process.clear === undefined) this.runner.windowStore.clearWindow(mapKey, start);
    else this.runner.clear(key, mapKey, new TimeWindow(start, start + this.size), start);
  }
}
