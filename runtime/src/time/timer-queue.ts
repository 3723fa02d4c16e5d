/** A timer of a keyed operator: fires once for (key, namespace, timestamp). */
export interface InternalTimer<N> {
  readonly key: unknown;
  readonly namespace: N;
  readonly timestamp: number;
  /** The key's key group: timers are keyed state and are snapshotted and moved per key group. */
  readonly keyGroup: number;
}

type Slot<N> = InternalTimer<N> | InternalTimer<N>[];

/** No key: a value no Map key can be. */
const NO_KEY = Symbol("no key");

/**
 * The timers of one time domain of one operator, ordered by timestamp. Timers with the same
 * timestamp share one bucket (a Map by key), and the heap holds distinct timestamps only, so
 * registering a timer that already exists — a window trigger does it for every record — costs
 * two Map lookups and allocates nothing. A key rarely has timers in two namespaces at one
 * timestamp; then its slot becomes a small array.
 *
 * Within one timestamp, timers fire in the order they were registered.
 */
export class TimerQueue<N> {
  private readonly byTime = new Map<number, Map<unknown, Slot<N>>>();
  private readonly heap: number[] = [];
  private count = 0;
  /** The bucket `pollDue` is draining, and its iterator. */
  private drained: Map<unknown, Slot<N>> | undefined;
  private cursor: Iterator<[unknown, Slot<N>]> | undefined;
  /** The key whose slot array `pollDue` took a timer from last (its other timers come next). */
  private cursorSlotKey: unknown = NO_KEY;

  constructor(private readonly namespaceId: (namespace: N) => unknown) {}

  get size(): number {
    return this.count;
  }

  /** Adds the timer unless it exists; `mapKey` is the key as a Map key (tuples canonical). Returns true when added. */
  add(mapKey: unknown, timer: InternalTimer<N>): boolean {
    let bucket = this.byTime.get(timer.timestamp);
    if (bucket === undefined) {
      bucket = new Map();
      this.byTime.set(timer.timestamp, bucket);
      this.push(timer.timestamp);
    }
    const slot = bucket.get(mapKey);
    if (slot === undefined) {
      bucket.set(mapKey, timer);
    } else {
      const id = this.namespaceId(timer.namespace);
      if (Array.isArray(slot)) {
        for (const existing of slot) if (this.namespaceId(existing.namespace) === id) return false;
        slot.push(timer);
      } else {
        if (this.namespaceId(slot.namespace) === id) return false;
        bucket.set(mapKey, [slot, timer]);
      }
    }
    this.count++;
    return true;
  }

  /** True when the timer exists (without allocating). */
  has(mapKey: unknown, namespace: N, timestamp: number): boolean {
    const slot = this.byTime.get(timestamp)?.get(mapKey);
    if (slot === undefined) return false;
    const id = this.namespaceId(namespace);
    if (Array.isArray(slot)) return slot.some((t) => this.namespaceId(t.namespace) === id);
    return this.namespaceId(slot.namespace) === id;
  }

  /** Removes the timer if it exists. */
  remove(mapKey: unknown, namespace: N, timestamp: number): boolean {
    const bucket = this.byTime.get(timestamp);
    const slot = bucket?.get(mapKey);
    if (bucket === undefined || slot === undefined) return false;
    const id = this.namespaceId(namespace);
    if (Array.isArray(slot)) {
      const i = slot.findIndex((t) => this.namespaceId(t.namespace) === id);
      if (i < 0) return false;
      slot.splice(i, 1);
      if (slot.length === 1) bucket.set(mapKey, slot[0] as InternalTimer<N>);
    } else {
      if (this.namespaceId(slot.namespace) !== id) return false;
      bucket.delete(mapKey);
    }
    this.count--;
    if (bucket.size === 0) this.byTime.delete(timestamp);
    return true;
  }

  /** The smallest timestamp with a timer, or undefined. */
  peekTime(): number | undefined {
    const heap = this.heap;
    while (heap.length > 0) {
      const top = heap[0] as number;
      if (this.byTime.has(top)) return top;
      this.pop(); // a timestamp whose timers were all deleted, or a duplicate entry
    }
    return undefined;
  }

  /**
   * Removes and returns the first timer due at or before `time`, in timestamp order, or
   * undefined. One at a time, so a timer deleted by an earlier timer's callback does not fire.
   *
   * The bucket being drained is walked with one live Map iterator (it skips entries deleted
   * meanwhile and reaches entries added meanwhile): taking the first entry afresh each time would
   * step over every entry already taken, which V8 leaves as holes until the Map shrinks, and
   * cost time quadratic in the bucket's size (a window end shared by every key).
   */
  pollDue(time: number): InternalTimer<N> | undefined {
    const next = this.peekTime();
    if (next === undefined || next > time) return undefined;
    const bucket = this.byTime.get(next) as Map<unknown, Slot<N>>;
    if (bucket !== this.drained) {
      this.drained = bucket;
      this.cursor = bucket.entries();
      this.cursorSlotKey = NO_KEY;
    }
    let mapKey: unknown;
    let slot: Slot<N> | undefined;
    // A key with several timers at this timestamp stays in the bucket until its last one is taken.
    if (this.cursorSlotKey !== NO_KEY) {
      mapKey = this.cursorSlotKey;
      slot = bucket.get(mapKey);
    }
    if (slot === undefined) {
      let step = (this.cursor as Iterator<[unknown, Slot<N>]>).next();
      if (step.done) {
        // Only entries already visited are left: start over (rare: a slot array emptied by remove()).
        this.cursor = bucket.entries();
        step = this.cursor.next();
      }
      [mapKey, slot] = step.value as [unknown, Slot<N>];
    }
    let timer: InternalTimer<N>;
    if (Array.isArray(slot)) {
      timer = slot.shift() as InternalTimer<N>;
      if (slot.length === 1) bucket.set(mapKey, slot[0] as InternalTimer<N>);
      this.cursorSlotKey = mapKey;
    } else {
      timer = slot as InternalTimer<N>;
      bucket.delete(mapKey);
      this.cursorSlotKey = NO_KEY;
    }
    this.count--;
    if (bucket.size === 0) {
      this.byTime.delete(next);
      this.drained = undefined;
      this.cursor = undefined;
    }
    return timer;
  }

  /** Every timer, in no particular order (snapshots, tests). */
  *timers(): IterableIterator<InternalTimer<N>> {
    for (const bucket of this.byTime.values()) {
      for (const slot of bucket.values()) {
        if (Array.isArray(slot)) yield* slot;
        else yield slot;
      }
    }
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
