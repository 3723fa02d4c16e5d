/**
 * Values per (key, window) of one window operator in one shard: a Map per key of values by
 * window id. Keys are Map keys (`mapKeyOf`: tuples in canonical form); window ids are the
 * assigner's `windowId`. A key's inner map is removed with its last window, so a key whose
 * windows were all cleaned up costs nothing: `size` counts (key, window) entries and drops to
 * zero when every window is gone.
 */
export class WindowTable<V> {
  private readonly byKey = new Map<unknown, Map<unknown, V>>();
  private count = 0;
  /**
   * The last key looked up and its windows: a record touches all its windows (10 for a sliding
   * window of 10 slides) under one key, so this saves a lookup in the big per-key Map for each.
   */
  private lastKey: unknown = NO_KEY;
  private lastWindows: Map<unknown, V> | undefined;

  private windowsOf(mapKey: unknown): Map<unknown, V> | undefined {
    if (mapKey === this.lastKey) return this.lastWindows;
    const windows = this.byKey.get(mapKey);
    this.lastKey = mapKey;
    this.lastWindows = windows;
    return windows;
  }

  /** Number of (key, window) entries. */
  get size(): number {
    return this.count;
  }

  get(mapKey: unknown, windowId: unknown): V | undefined {
    return this.windowsOf(mapKey)?.get(windowId);
  }

  set(mapKey: unknown, windowId: unknown, value: V): void {
    let windows = this.windowsOf(mapKey);
    if (windows === undefined) {
      windows = new Map();
      this.byKey.set(mapKey, windows);
      this.lastWindows = windows;
    }
    const before = windows.size;
    windows.set(windowId, value);
    if (windows.size > before) this.count++;
  }

  /** Removes the entry; returns what it held. */
  delete(mapKey: unknown, windowId: unknown): V | undefined {
    const windows = this.windowsOf(mapKey);
    if (windows === undefined) return undefined;
    const value = windows.get(windowId);
    if (!windows.delete(windowId)) return undefined;
    this.count--;
    if (windows.size === 0) {
      this.byKey.delete(mapKey);
      this.lastWindows = undefined;
    }
    return value;
  }
}

/** No key: a value no Map key can be. */
const NO_KEY = Symbol("no key");
