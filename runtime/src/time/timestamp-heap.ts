/**
 * A binary min-heap of timestamps (plain numbers in an array: no object per entry). Timer
 * structures keep one entry per distinct timestamp here and their timers in a Map beside it.
 */
export class TimestampHeap {
  private readonly heap: number[] = [];

  get size(): number {
    return this.heap.length;
  }

  /** The smallest timestamp, or undefined when empty. */
  peek(): number | undefined {
    return this.heap[0];
  }

  push(value: number): void {
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

  /** Removes the smallest timestamp. */
  pop(): void {
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
