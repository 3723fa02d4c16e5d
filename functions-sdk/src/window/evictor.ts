import type { Window } from "./window.js";

/** A record in a window with its event timestamp (NaN when it has none). */
export interface TimestampedValue<T> {
  readonly value: T;
  readonly timestamp: number;
}

/** What an evictor may read when it runs. */
export interface EvictorContext {
  currentWatermark(): number;
  currentProcessingTime(): number;
}

/**
 * Removes records from a window before and/or after its function runs. `elements` is in
 * insertion order; remove records by splicing the array in place. A window with an evictor
 * keeps every record (no incremental aggregation), as in Flink.
 */
export interface Evictor<T, W extends Window> {
  evictBefore?(elements: TimestampedValue<T>[], window: W, ctx: EvictorContext): void;
  evictAfter?(elements: TimestampedValue<T>[], window: W, ctx: EvictorContext): void;
}

function positiveInteger(what: string, value: number): void {
  if (!(Number.isInteger(value) && value > 0)) throw new RangeError(`${what} must be a positive integer, got ${value}`);
}

/** Keeps the last `maxCount` records (before the function runs, or after with `afterFunction`). */
export function countEvictor<T = unknown, W extends Window = Window>(
  maxCount: number,
  afterFunction = false,
): Evictor<T, W> {
  positiveInteger("countEvictor's maxCount", maxCount);
  const evict = (elements: TimestampedValue<T>[]): void => {
    if (elements.length > maxCount) elements.splice(0, elements.length - maxCount);
  };
  return afterFunction ? { evictAfter: evict } : { evictBefore: evict };
}

/** Keeps the records within `keepMs` of the newest record's timestamp. */
export function timeEvictor<T = unknown, W extends Window = Window>(
  keepMs: number,
  afterFunction = false,
): Evictor<T, W> {
  if (!(keepMs >= 0)) throw new RangeError(`timeEvictor's window must be zero or more milliseconds, got ${keepMs}`);
  const evict = (elements: TimestampedValue<T>[]): void => {
    let max = Number.NEGATIVE_INFINITY;
    for (const element of elements) if (element.timestamp > max) max = element.timestamp;
    if (max === Number.NEGATIVE_INFINITY) return;
    const cutoff = max - keepMs;
    let write = 0;
    for (const element of elements) if (!(element.timestamp <= cutoff)) elements[write++] = element;
    elements.length = write;
  };
  return afterFunction ? { evictAfter: evict } : { evictBefore: evict };
}

/** Removes records whose `delta` to the newest record is `threshold` or more. */
export function deltaEvictor<T, W extends Window = Window>(
  threshold: number,
  delta: (oldValue: T, newValue: T) => number,
  afterFunction = false,
): Evictor<T, W> {
  const evict = (elements: TimestampedValue<T>[]): void => {
    const last = elements[elements.length - 1];
    if (last === undefined) return;
    let write = 0;
    for (const element of elements) if (delta(element.value, last.value) < threshold) elements[write++] = element;
    elements.length = write;
  };
  return afterFunction ? { evictAfter: evict } : { evictBefore: evict };
}
