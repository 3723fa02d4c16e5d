import { TimestampHeap } from "../time/timestamp-heap.js";
/**
 * The timers of the aligned window path: for each timestamp, the keys with a window due then.
 * With aligned windows a timer's window follows from its timestamp (the window ending there),
 * so a timer is just its key in the list of its timestamp: no timer object, no namespace, no
 * key group (derived from the key when state is snapshotted, as keyed state does). Lists are
 * taken whole, in timestamp order, as event time passes them. Timestamps sit in a min-heap of
 * distinct values; few are live at once (one per window end).
 */
export class KeysByTime {
  private readonly byTime = new Map<number, unknown[]>();
  private readonly heap = new TimestampHeap();
  private count = 0;

  /** Number of (key, timestamp) timers. */
  get size(): number {
    return this.count;
  }

  add(timestamp: number, key: unknown): void {
    const keys = this.byTime.get(timestamp);
    if (keys === undefined) {
      this.byTime.set(timestamp, [key]);
      this.heap.push(timestamp);
    } else {
      keys.push(key);
    }
    this.count++;
  }

  /** The smallest timestamp with keys, or +Infinity. */
  peek(): number {
    return this.heap.peek() ?? Number.POSITIVE_INFINITY;
  }

  /** Removes and returns the keys of the smallest timestamp (the caller checked it is due with `peek`). */
  take(): unknown[] {
    const timestamp = this.heap.peek() as number;
    this.heap.pop();
    const keys = this.byTime.get(timestamp) as unknown[];
    this.byTime.delete(timestamp);
    this.count -= keys.length;
    return keys;
  }
}
