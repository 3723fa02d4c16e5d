import { ChangeTracker, type SnapshotMode, type TrackedRead } from "../util/change-tracker.js";
import { TimestampHeap } from "./timestamp-heap.js";
/** A timer of a keyed operator: fires once for (key, namespace, timestamp). */
export interface InternalTimer<N> {
  readonly key: unknown;
  readonly namespace: N;
  readonly timestamp: number;
  /** The key's key group: timers are keyed state and are snapshotted and moved per key group. */
  readonly keyGroup: number;
}

/** No key: a value no Map key can be. */
const NO_KEY = Symbol("no key");

/** A timer as the queue holds it: where it is filed, and whether it was removed before it fired. */
export interface Queued<N> {
  readonly timer: InternalTimer<N>;
  readonly mapKey: unknown;
  readonly namespaceId: unknown;
  removed: boolean;
}

/** The timers of one key, in registration order: one timer alone, or an array. */
export type TimerSlot<N> = Queued<N> | Array<Queued<N>>;

/** The timers due at one timestamp, in registration order; removed ones stay as tombstones until drained. */
interface Bucket<N> {
  readonly timers: Array<Queued<N>>;
  /** Index of the next timer to fire. */
  next: number;
  /** Timers not yet fired nor removed. */
  live: number;
}

/**
 * The timers of one time domain of one operator, ordered by timestamp.
 *
 * Membership is filed by key first (a key's few timers in a small array), because that is where
 * the work is: a window trigger registers its timer again for every record, and the key's entry
 * is already hot from the window's own state lookup, while a Map per timestamp holding every key
 * costs a cache miss per window (measured: half the time of the general window operator went to
 * that lookup). Firing order comes from buckets per timestamp (arrays in registration order) and
 * a heap of distinct timestamps.
 *
 * Within one timestamp, timers fire in the order they were registered. A timer removed by an
 * earlier timer's callback does not fire; one added at a due timestamp while draining fires in
 * the same drain.
 *
 * Timers are keyed state: a checkpoint holds each key's timers (its slot), with changes tracked
 * per key (adding, removing or firing a timer changes its key) and copy-on-write while a
 * snapshot is read (see ChangeTracker).
 */
export class TimerQueue<N> {
  private readonly byKey = new Map<unknown, TimerSlot<N>>();
  readonly tracker: ChangeTracker<TimerSlot<N>>;
  private readonly byTime = new Map<number, Bucket<N>>();
  private readonly heap = new TimestampHeap();
  private count = 0;
  /**
   * The last key looked up and its entry: a window operator registers a timer per window of a
   * record, all under one key, so this saves a lookup in the big per-key Map for each. Reset by
   * every change of an entry.
   */
  private lastKey: unknown = NO_KEY;
  private lastSlot: Queued<N> | Array<Queued<N>> | undefined;

  private slotOf(mapKey: unknown): Queued<N> | Array<Queued<N>> | undefined {
    if (mapKey === this.lastKey) return this.lastSlot;
    const slot = this.byKey.get(mapKey);
    this.lastKey = mapKey;
    this.lastSlot = slot;
    return slot;
  }

  constructor(private readonly namespaceId: (namespace: N) => unknown) {
    this.tracker = new ChangeTracker<TimerSlot<N>>(
      this.byKey,
      (slot) => (Array.isArray(slot) ? slot.slice() : slot),
      (key, cause) => new Error(`the timers of key ${String(key)} could not be copied`, { cause }),
    );
  }

  get size(): number {
    return this.count;
  }

  /** Adds the timer unless it exists; `mapKey` is the key as a Map key (tuples canonical). Returns true when added. */
  add(mapKey: unknown, timer: InternalTimer<N>): boolean {
    const namespaceId = this.namespaceId(timer.namespace);
    const slot = this.slotOf(mapKey);
    if (slot !== undefined && find(slot, namespaceId, timer.timestamp) !== undefined) return false;
    if (this.tracker.tracking) this.tracker.change(mapKey);
    const queued: Queued<N> = { timer, mapKey, namespaceId, removed: false };
    this.lastKey = NO_KEY;
    if (slot === undefined) this.byKey.set(mapKey, queued);
    else if (Array.isArray(slot)) slot.push(queued);
    else this.byKey.set(mapKey, [slot, queued]);
    let bucket = this.byTime.get(timer.timestamp);
    if (bucket === undefined) {
      bucket = { timers: [], next: 0, live: 0 };
      this.byTime.set(timer.timestamp, bucket);
      this.heap.push(timer.timestamp);
    }
    bucket.timers.push(queued);
    bucket.live++;
    this.count++;
    return true;
  }

  /** True when the timer exists. */
  has(mapKey: unknown, namespace: N, timestamp: number): boolean {
    const slot = this.slotOf(mapKey);
    return slot !== undefined && find(slot, this.namespaceId(namespace), timestamp) !== undefined;
  }

  /** Removes the timer if it exists. */
  remove(mapKey: unknown, namespace: N, timestamp: number): boolean {
    const slot = this.slotOf(mapKey);
    if (slot === undefined) return false;
    const queued = find(slot, this.namespaceId(namespace), timestamp);
    if (queued === undefined) return false;
    if (this.tracker.tracking) this.tracker.change(mapKey);
    this.unfile(queued);
    queued.removed = true;
    this.count--;
    const bucket = this.byTime.get(timestamp) as Bucket<N>;
    if (--bucket.live === 0) this.byTime.delete(timestamp); // its heap entry is skipped when reached
    return true;
  }

  /** The smallest timestamp with a timer, or undefined. */
  peekTime(): number | undefined {
    for (let top = this.heap.peek(); top !== undefined; top = this.heap.peek()) {
      if (this.byTime.has(top)) return top;
      this.heap.pop(); // a timestamp whose timers were all removed, or a duplicate entry
    }
    return undefined;
  }

  /**
   * Removes and returns the first timer due at or before `time`, in timestamp order, or
   * undefined. One at a time, so a timer removed by an earlier timer's callback does not fire.
   */
  pollDue(time: number): InternalTimer<N> | undefined {
    for (;;) {
      const next = this.peekTime();
      if (next === undefined || next > time) return undefined;
      const bucket = this.byTime.get(next) as Bucket<N>;
      while (bucket.next < bucket.timers.length) {
        const queued = bucket.timers[bucket.next++] as Queued<N>;
        if (queued.removed) continue;
        if (this.tracker.tracking) this.tracker.change(queued.mapKey);
        this.unfile(queued);
        this.count--;
        if (--bucket.live === 0) this.byTime.delete(next);
        return queued.timer;
      }
      this.byTime.delete(next); // only tombstones were left
    }
  }

  /** The mark of a snapshot: the read yields (Map key, the key's timers as at the mark); see `timersOf`. */
  snapshot(checkpointId: number, mode: SnapshotMode): TrackedRead<TimerSlot<N>> {
    return this.tracker.mark(checkpointId, mode);
  }

  /** Takes the timer out of its key's entry (not out of its bucket). */
  private unfile(queued: Queued<N>): void {
    this.lastKey = NO_KEY;
    const slot = this.byKey.get(queued.mapKey);
    if (slot === queued) {
      this.byKey.delete(queued.mapKey);
      return;
    }
    if (!Array.isArray(slot)) return;
    const i = slot.indexOf(queued);
    if (i >= 0) slot.splice(i, 1);
    if (slot.length === 1) this.byKey.set(queued.mapKey, slot[0] as Queued<N>);
    else if (slot.length === 0) this.byKey.delete(queued.mapKey);
  }
}

function find<N>(slot: Queued<N> | Array<Queued<N>>, namespaceId: unknown, timestamp: number): Queued<N> | undefined {
  if (!Array.isArray(slot)) {
    return slot.timer.timestamp === timestamp && slot.namespaceId === namespaceId ? slot : undefined;
  }
  for (let i = 0; i < slot.length; i++) {
    const queued = slot[i] as Queued<N>;
    if (queued.timer.timestamp === timestamp && queued.namespaceId === namespaceId) return queued;
  }
  return undefined;
}

/** The timers of a slot, in registration order. */
export function timersOf<N>(slot: TimerSlot<N>): Array<InternalTimer<N>> {
  return Array.isArray(slot) ? slot.map((queued) => queued.timer) : [slot.timer];
}
