/**
 * The Map a state table keeps its values in: number keys in a hash table of its own (open
 * addressing with linear probing in a Float64Array), every other key (strings, canonical tuple
 * strings, NaN) in a JS Map beside it.
 *
 * Why not just a Map: the state lookup is most of a keyed record's cost once a table outgrows the
 * CPU's caches, and a JS Map of a million keys reads three or four cache lines per lookup (bucket,
 * entry, collision chain). While every value is a number (counters, sums: number mode) each
 * value sits beside its key, so a lookup reads one line; once a value is not a number (object
 * mode) values move to an array at the same index as their keys, two lines a lookup, and
 * `packNumbers` moves them back when they are all numbers again (a state table calls it after
 * a snapshot's copy found only numbers). Measured here on a million keys, a get and a set: 150-300
 * ns with a Map, 45-85 ns in object mode; the checkpoints benchmark's counting job 3.2 M records/s
 * with a Map, 6.3 in object mode, 7.2 in number mode. It also loses less when another thread (a
 * checkpoint's encoder) competes for the memory bus. Flink's heap backend keeps its own hash map
 * too (CopyOnWriteStateMap), for its snapshots.
 *
 * Differs from a Map: iteration visits number keys in table order, then the others in insertion
 * order; `keys()`, `values()` and `entries()` iterate a copy taken when called, so writes during
 * the iteration are not seen (nothing the tables do relies on either). Keys compare as a Map's do
 * (SameValueZero: -0 is 0); number values are kept exactly (-0 and NaN included).
 */
export class NumberKeyMap<V> implements ReadonlyMap<unknown, V> {
  /**
   * Slot i's key at i * 2 (NaN marks an empty slot: a NaN key lives in `others`), and in number
   * mode its value at i * 2 + 1. Object mode leaves the keys where they are (switching modes
   * allocates only the values' array: fresh memory costs about 3 ms a megabyte here in page
   * faults, and a table switches at every tracked interval of its checkpoints).
   */
  private slots: Float64Array;
  /** Values by slot in object mode; undefined in number mode. */
  private objects: (V | undefined)[] | undefined = undefined;
  /** Slots (a power of two); slots - 1; and 32 - log2(slots), the hash's shift. */
  private capacity = MIN_SLOTS;
  private mask = MIN_SLOTS - 1;
  private shift = 32 - Math.log2(MIN_SLOTS);
  /** Number keys held. */
  private numbers = 0;
  private readonly others = new Map<unknown, V>();
  /** Counts changes of which number keys sit in which slots (inserts, deletes, growth): see `layout`. */
  private moves = 0;

  constructor() {
    this.slots = emptySlots(MIN_SLOTS * 2);
  }

  get size(): number {
    return this.numbers + this.others.size;
  }

  /**
   * Changes whenever a number key is added or removed or the table grows, so while it stays the
   * same, `copyNumbers` lists the same keys in the same order and two copies compare by position.
   * Undefined while other keys are held (strings, tuples, NaN): their order is not counted.
   */
  get layout(): number | undefined {
    return this.others.size > 0 ? undefined : this.moves;
  }

  get(key: unknown): V | undefined {
    // Number mode in a small body of its own, so that it inlines into the state handle's read
    // and a number value is not boxed on the way out (a body with both modes ran at 4.3-7.3 M
    // records/s from run to run on the checkpoints benchmark's job, this one at 7.4-7.9).
    if (typeof key === "number" && this.objects === undefined && !Number.isNaN(key)) {
      const slots = this.slots;
      const mask = this.mask;
      for (let at = slotOf(key, this.shift); ; at = (at + 1) & mask) {
        const held = slots[2 * at] as number;
        if (held === key) return slots[2 * at + 1] as V;
        if (Number.isNaN(held)) return undefined;
      }
    }
    return this.getOther(key);
  }

  /**
   * Starts loading the memory that lookups of `keys[0..count)` will read first: the slot each
   * probe starts at (and its value in object mode). A lookup in a large table is a cache miss
   * (about four fifths of the counting benchmark's time per record went to the first probe's
   * load); a tight loop of independent loads keeps many misses in flight at once, where lookups
   * one record at a time, with the record's work between them, have one or two. Returns how many
   * of those slots held a key, for the caller to keep (so the loads are not dropped as unused).
   */
  prefetch(keys: readonly unknown[], count: number): number {
    const slots = this.slots;
    const shift = this.shift;
    const objects = this.objects;
    let occupied = 0;
    for (let i = 0; i < count; i++) {
      const key = keys[i];
      if (typeof key !== "number") continue;
      const at = slotOf(key, shift);
      if (!Number.isNaN(slots[2 * at] as number)) occupied++;
      if (objects !== undefined && objects[at] === undefined) occupied--;
    }
    return occupied;
  }

  private getOther(key: unknown): V | undefined {
    if (typeof key !== "number" || Number.isNaN(key)) return this.others.get(key);
    const at = this.find(key);
    return at < 0 ? undefined : (this.objects as (V | undefined)[])[at];
  }

  has(key: unknown): boolean {
    if (typeof key !== "number" || Number.isNaN(key)) return this.others.has(key);
    return this.find(key) >= 0;
  }

  set(key: unknown, value: V): this {
    // As in `get`: number mode alone in the inlined body.
    if (typeof key === "number" && typeof value === "number" && this.objects === undefined && !Number.isNaN(key)) {
      const slots = this.slots;
      const mask = this.mask;
      for (let at = slotOf(key, this.shift); ; at = (at + 1) & mask) {
        const held = slots[2 * at] as number;
        if (held === key) {
          slots[2 * at + 1] = value;
          return this;
        }
        if (Number.isNaN(held)) return this.insert(at, key, value);
      }
    }
    return this.setOther(key, value);
  }

  private setOther(key: unknown, value: V): this {
    if (typeof key !== "number" || Number.isNaN(key)) {
      this.others.set(key, value);
      return this;
    }
    if (this.objects === undefined) this.toObjectMode(); // a value that is not a number
    const objects = this.objects as (V | undefined)[];
    const slots = this.slots;
    const mask = this.mask;
    for (let at = slotOf(key, this.shift); ; at = (at + 1) & mask) {
      const held = slots[2 * at] as number;
      if (held === key) {
        objects[at] = value;
        return this;
      }
      if (Number.isNaN(held)) return this.insert(at, key, value);
    }
  }

  /** A new number key into empty slot `at` (or, past half full, into the grown table). */
  private insert(at: number, key: number, value: V): this {
    if (2 * (this.numbers + 1) > this.capacity) {
      this.grow();
      return this.set(key, value);
    }
    this.slots[2 * at] = key + 0; // -0 is stored as 0, as a Map does
    this.put(at, value);
    this.numbers++;
    this.moves++;
    return this;
  }

  delete(key: unknown): boolean {
    if (typeof key !== "number" || Number.isNaN(key)) return this.others.delete(key);
    let hole = this.find(key);
    if (hole < 0) return false;
    // Backward-shift deletion: entries after the hole in its run move into it when the hole lies
    // between their home slot and where they sit, so every lookup still meets its key before an
    // empty slot, with no tombstones to slow later lookups.
    const slots = this.slots;
    const objects = this.objects;
    const mask = this.mask;
    for (let at = (hole + 1) & mask; ; at = (at + 1) & mask) {
      const held = slots[2 * at] as number;
      if (Number.isNaN(held)) break;
      const home = slotOf(held, this.shift);
      if (((hole - home) & mask) < ((at - home) & mask)) {
        slots[2 * hole] = held;
        slots[2 * hole + 1] = slots[2 * at + 1] as number;
        if (objects !== undefined) objects[hole] = objects[at];
        hole = at;
      }
    }
    slots[2 * hole] = Number.NaN;
    if (objects !== undefined) objects[hole] = undefined;
    this.numbers--;
    this.moves++;
    return true;
  }

  clear(): void {
    this.slots = emptySlots(MIN_SLOTS * 2);
    this.objects = undefined;
    this.capacity = MIN_SLOTS;
    this.mask = MIN_SLOTS - 1;
    this.shift = 32 - Math.log2(MIN_SLOTS);
    this.numbers = 0;
    this.moves++;
    this.others.clear();
  }

  forEach(visit: (value: V, key: unknown, map: ReadonlyMap<unknown, V>) => void): void {
    const slots = this.slots;
    const objects = this.objects;
    for (let at = 0; at < this.capacity; at++) {
      const key = slots[2 * at] as number;
      if (!Number.isNaN(key)) visit(objects === undefined ? (slots[at * 2 + 1] as V) : (objects[at] as V), key, this);
    }
    this.others.forEach((value, key) => visit(value, key, this));
  }

  /**
   * Copies every key and value into `keys` and `values` (from index 0, as forEach visits them)
   * when all keys and values are numbers: the count, else -1 (at the first that is not; the
   * caller copies another way). A snapshot's copy at its mark: one pass, no call per entry.
   */
  copyNumbers(keys: Float64Array, values: Float64Array): number {
    if (this.others.size > 0) return -1;
    const slots = this.slots;
    const objects = this.objects;
    let copied = 0;
    for (let at = 0; at < this.capacity; at++) {
      const key = slots[2 * at] as number;
      if (Number.isNaN(key)) continue;
      const value = objects === undefined ? slots[at * 2 + 1] : objects[at];
      if (typeof value !== "number") return -1;
      keys[copied] = key;
      values[copied++] = value;
    }
    return copied;
  }

  /**
   * Back to number mode (values beside their keys) if every value is a number now; true if the
   * map is in number mode after. One pass over the slots.
   */
  packNumbers(): boolean {
    const objects = this.objects;
    if (objects === undefined) return true;
    const slots = this.slots;
    for (let at = 0; at < this.capacity; at++) {
      if (!Number.isNaN(slots[2 * at] as number) && typeof objects[at] !== "number") return false;
    }
    for (let at = 0; at < this.capacity; at++) {
      if (!Number.isNaN(slots[2 * at] as number)) slots[2 * at + 1] = objects[at] as number;
    }
    this.objects = undefined;
    return true;
  }

  /** Replaces every value that is an object with what `replace` makes of it, in place. */
  replaceObjects(replace: (value: V) => V): void {
    const objects = this.objects;
    if (objects !== undefined) {
      for (let at = 0; at < this.capacity; at++) {
        const value = objects[at];
        if (typeof value === "object" && value !== null) objects[at] = replace(value);
      }
    }
    for (const [key, value] of this.others) {
      if (typeof value === "object" && value !== null) this.others.set(key, replace(value));
    }
  }

  keys(): MapIterator<unknown> {
    const keys: unknown[] = [];
    this.forEach((_value, key) => keys.push(key));
    return keys.values();
  }

  values(): MapIterator<V> {
    const values: V[] = [];
    this.forEach((value) => values.push(value));
    return values.values();
  }

  entries(): MapIterator<[unknown, V]> {
    const entries: [unknown, V][] = [];
    this.forEach((value, key) => entries.push([key, value]));
    return entries.values();
  }

  [Symbol.iterator](): MapIterator<[unknown, V]> {
    return this.entries();
  }

  private put(at: number, value: V): void {
    const objects = this.objects;
    if (objects === undefined) this.slots[at * 2 + 1] = value as number;
    else objects[at] = value;
  }

  /** The slot of number `key`, or -1. */
  private find(key: number): number {
    const slots = this.slots;
    const mask = this.mask;
    for (let at = slotOf(key, this.shift); ; at = (at + 1) & mask) {
      const held = slots[2 * at] as number;
      if (held === key) return at;
      if (Number.isNaN(held)) return -1;
    }
  }

  /** Values move to an array of their own: the first value that is not a number arrived. */
  private toObjectMode(): void {
    const slots = this.slots;
    const objects = emptyValues<V>(this.capacity);
    for (let at = 0; at < this.capacity; at++) {
      if (!Number.isNaN(slots[2 * at] as number)) objects[at] = slots[2 * at + 1] as V;
    }
    this.objects = objects;
  }

  /** Twice the slots, every key rehashed (the table stays at most half full: short probe runs). */
  private grow(): void {
    const oldSlots = this.slots;
    const oldObjects = this.objects;
    const oldCapacity = this.capacity;
    const capacity = oldCapacity * 2;
    const slots = emptySlots(capacity * 2);
    const objects = oldObjects === undefined ? undefined : emptyValues<V>(capacity);
    const mask = capacity - 1;
    const shift = 32 - Math.log2(capacity);
    for (let from = 0; from < oldCapacity; from++) {
      const key = oldSlots[2 * from] as number;
      if (Number.isNaN(key)) continue;
      let at = slotOf(key, shift);
      while (!Number.isNaN(slots[2 * at] as number)) at = (at + 1) & mask;
      slots[2 * at] = key;
      slots[2 * at + 1] = oldSlots[2 * from + 1] as number;
      if (objects !== undefined) objects[at] = (oldObjects as (V | undefined)[])[from];
    }
    this.slots = slots;
    this.objects = objects;
    this.capacity = capacity;
    this.mask = mask;
    this.shift = shift;
    this.moves++;
  }
}

const MIN_SLOTS = 16;

const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);

/**
 * Fibonacci hashing: the key times 2^32/φ, its top bits. Int32 keys (the common ones: ids,
 * counters, small numbers) take one multiply; other numbers mix their two 32-bit halves first.
 */
function slotOf(key: number, shift: number): number {
  if ((key | 0) === key) return Math.imul(key, 0x9e3779b1) >>> shift;
  bits[0] = key;
  return Math.imul((words[0] as number) ^ Math.imul(words[1] as number, 0x85ebca6b), 0x9e3779b1) >>> shift;
}

function emptySlots(length: number): Float64Array {
  return new Float64Array(length).fill(Number.NaN);
}

function emptyValues<V>(slots: number): (V | undefined)[] {
  // Filled rather than left holey: a large `new Array(n)` alone is a dictionary, slow to index.
  return new Array<V | undefined>(slots).fill(undefined);
}
