/**
 * The Map a state table keeps its values in: number keys in a hash table of its own (open
 * addressing with linear probing, keys in a Float64Array and values in an array at the same
 * index), every other key (strings, canonical tuple strings, NaN) in a JS Map beside it.
 *
 * Why not just a Map: the state lookup is most of a keyed record's cost once a table outgrows the
 * CPU's caches, and a JS Map of a million keys reads three or four cache lines per lookup (bucket,
 * entry, collision chain) where this reads two (the key's line, the value's line). Measured here
 * on a million keys, a get and a set: 150-300 ns with a Map, 45-85 ns with this. It also loses
 * less when another thread (a checkpoint's encoder) competes for the memory bus. Flink's heap
 * backend keeps its own hash map too (CopyOnWriteStateMap), for its snapshots.
 *
 * Differs from a Map: iteration visits number keys in table order, then the others in insertion
 * order; `keys()`, `values()` and `entries()` iterate a copy taken when called, so writes during
 * the iteration are not seen (nothing the tables do relies on either). Keys compare as a Map's do
 * (SameValueZero: -0 is 0).
 */
export class NumberKeyMap<V> implements ReadonlyMap<unknown, V> {
  /** Keys by slot; NaN marks an empty slot (a NaN key lives in `others`). */
  private slotKeys: Float64Array;
  private slotValues: (V | undefined)[];
  /** Slots - 1 (a power of two); and 32 - log2(slots), the hash's shift. */
  private mask: number;
  private shift: number;
  /** Number keys held. */
  private numbers = 0;
  private readonly others = new Map<unknown, V>();

  constructor() {
    this.slotKeys = emptyKeys(MIN_SLOTS);
    this.slotValues = emptyValues(MIN_SLOTS);
    this.mask = MIN_SLOTS - 1;
    this.shift = 32 - Math.log2(MIN_SLOTS);
  }

  get size(): number {
    return this.numbers + this.others.size;
  }

  get(key: unknown): V | undefined {
    if (typeof key !== "number" || Number.isNaN(key)) return this.others.get(key);
    const keys = this.slotKeys;
    const mask = this.mask;
    for (let at = slotOf(key, this.shift); ; at = (at + 1) & mask) {
      const held = keys[at] as number;
      if (held === key) return this.slotValues[at];
      if (Number.isNaN(held)) return undefined;
    }
  }

  has(key: unknown): boolean {
    if (typeof key !== "number" || Number.isNaN(key)) return this.others.has(key);
    return this.find(key) >= 0;
  }

  set(key: unknown, value: V): this {
    if (typeof key !== "number" || Number.isNaN(key)) {
      this.others.set(key, value);
      return this;
    }
    const keys = this.slotKeys;
    const mask = this.mask;
    for (let at = slotOf(key, this.shift); ; at = (at + 1) & mask) {
      const held = keys[at] as number;
      if (held === key) {
        this.slotValues[at] = value;
        return this;
      }
      if (Number.isNaN(held)) {
        if (2 * (this.numbers + 1) > keys.length) {
          this.grow();
          return this.set(key, value);
        }
        keys[at] = key + 0; // -0 is stored as 0, as a Map does
        this.slotValues[at] = value;
        this.numbers++;
        return this;
      }
    }
  }

  delete(key: unknown): boolean {
    if (typeof key !== "number" || Number.isNaN(key)) return this.others.delete(key);
    let hole = this.find(key);
    if (hole < 0) return false;
    // Backward-shift deletion: entries after the hole in its run move into it when the hole lies
    // between their home slot and where they sit, so every lookup still meets its key before an
    // empty slot, with no tombstones to slow later lookups.
    const keys = this.slotKeys;
    const values = this.slotValues;
    const mask = this.mask;
    for (let at = (hole + 1) & mask; ; at = (at + 1) & mask) {
      const held = keys[at] as number;
      if (Number.isNaN(held)) break;
      const home = slotOf(held, this.shift);
      if (((hole - home) & mask) < ((at - home) & mask)) {
        keys[hole] = held;
        values[hole] = values[at];
        hole = at;
      }
    }
    keys[hole] = Number.NaN;
    values[hole] = undefined;
    this.numbers--;
    return true;
  }

  clear(): void {
    this.slotKeys = emptyKeys(MIN_SLOTS);
    this.slotValues = emptyValues(MIN_SLOTS);
    this.mask = MIN_SLOTS - 1;
    this.shift = 32 - Math.log2(MIN_SLOTS);
    this.numbers = 0;
    this.others.clear();
  }

  forEach(visit: (value: V, key: unknown, map: ReadonlyMap<unknown, V>) => void): void {
    const keys = this.slotKeys;
    const values = this.slotValues;
    for (let at = 0; at < keys.length; at++) {
      const key = keys[at] as number;
      if (!Number.isNaN(key)) visit(values[at] as V, key, this);
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
    const slotKeys = this.slotKeys;
    const slotValues = this.slotValues;
    let copied = 0;
    for (let at = 0; at < slotKeys.length; at++) {
      const key = slotKeys[at] as number;
      if (Number.isNaN(key)) continue;
      const value = slotValues[at];
      if (typeof value !== "number") return -1;
      keys[copied] = key;
      values[copied++] = value;
    }
    return copied;
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

  /** The slot of number `key`, or -1. */
  private find(key: number): number {
    const keys = this.slotKeys;
    const mask = this.mask;
    for (let at = slotOf(key, this.shift); ; at = (at + 1) & mask) {
      const held = keys[at] as number;
      if (held === key) return at;
      if (Number.isNaN(held)) return -1;
    }
  }

  /** Twice the slots, every key rehashed (the table stays at most half full: short probe runs). */
  private grow(): void {
    const oldKeys = this.slotKeys;
    const oldValues = this.slotValues;
    const slots = oldKeys.length * 2;
    const keys = emptyKeys(slots);
    const values = emptyValues<V>(slots);
    const mask = slots - 1;
    const shift = 32 - Math.log2(slots);
    for (let from = 0; from < oldKeys.length; from++) {
      const key = oldKeys[from] as number;
      if (Number.isNaN(key)) continue;
      let at = slotOf(key, shift);
      while (!Number.isNaN(keys[at] as number)) at = (at + 1) & mask;
      keys[at] = key;
      values[at] = oldValues[from];
    }
    this.slotKeys = keys;
    this.slotValues = values;
    this.mask = mask;
    this.shift = shift;
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

function emptyKeys(slots: number): Float64Array {
  return new Float64Array(slots).fill(Number.NaN);
}

function emptyValues<V>(slots: number): (V | undefined)[] {
  // Filled rather than left holey: a large `new Array(n)` alone is a dictionary, slow to index.
  return new Array<V | undefined>(slots).fill(undefined);
}
