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
  private readonly heap: number[] = [];
  private count = 0;

  /** Number of (key, timestamp) timers. */
  get size(): number {
    return this.count;
  }

  add(timestamp: number, key: unknown): void {
    const keys = this.byTime.get(timestamp);
    if (keys === undefined) {
      this.byTime.set(timestamp, [key]);
      this.push(timestamp);
    } else {
      keys.push(key);
    }
    this.count++;
  }

  /** The smallest timestamp with keys, or +Infinity. */
  peek(): number {
    return this.heap.length === 0 ? Number.POSITIVE_INFINITY : (this.heap[0] as number);
  }

  /** Removes and returns the keys of the smallest timestamp (the caller checked it is due with `peek`). */
  take(): unknown[] {
    const timestamp = this.heap[0] as number;
    this.pop();
    const keys = this.byTime.get(timestamp) as unknown[];
    this.byTime.delete(timestamp);
    this.count -= keys.length;
    return keys;
  }

  private push(value: number): void {
    const heap = this.heap;
    let i = heap.length;
    heap.push(value);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((heap[parent] as number) <= value) break;
      heap[i] = heap[parent] as number;
      i = parent;
    }
    heap[i] = value;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop() as number;
    if (heap.length === 0) return;
    let i = 0;
    const n = heap.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && (heap[right] as number) < (heap[left] as number) ? right : left;
      if ((heap[child] as number) >= last) break;
      heap[i] = heap[child] as number;
      i = child;
    }
    heap[i] = last;
  }
}
