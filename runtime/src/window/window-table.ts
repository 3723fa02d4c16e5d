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

  /** Number of (key, window) entries. */
  get size(): number {
    return this.count;
  }

  get(mapKey: unknown, windowId: unknown): V | undefined {
    return this.byKey.get(mapKey)?.get(windowId);
  }

  set(mapKey: unknown, windowId: unknown, value: V): void {
    let windows = this.byKey.get(mapKey);
    if (windows === undefined) {
      windows = new Map();
      this.byKey.set(mapKey, windows);
    }
    const before = windows.size;
    windows.set(windowId, value);
    if (windows.size > before) this.count++;
  }

  /** Removes the entry; returns what it held. */
  delete(mapKey: unknown, windowId: unknown): V | undefined {
    const windows = this.byKey.get(mapKey);
    if (windows === undefined) return undefined;
    const value = windows.get(windowId);
    if (!windows.delete(windowId)) return undefined;
    this.count--;
    if (windows.size === 0) this.byKey.delete(mapKey);
    return value;
  }
}
