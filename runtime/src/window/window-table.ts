import { keyOfMapKey } from "../partition/canonical-key.js";
import { copyValue } from "../state/copy-value.js";
import { StateNotSnapshottableError } from "../state/errors.js";
import type { KeyedStatePart } from "../state/keyed-state-part.js";
import type { ValueCodec } from "../state/state-table.js";
import { TrackedMapState } from "../state/tracked-map-state.js";
import { type ChangeHolder, ChangeTracker } from "../util/change-tracker.js";

/** A key's values by window id, remembering when its key was last recorded as changed. */
class KeyWindows<V> extends Map<unknown, V> implements ChangeHolder {
  changedIn = -1;
}

/**
 * Values per (key, window) of one window operator in one shard: a Map per key of values by
 * window id. Keys are Map keys (`mapKeyOf`: tuples in canonical form); window ids are the
 * assigner's `windowId`. A key's inner map is removed with its last window, so a key whose
 * windows were all cleaned up costs nothing: `size` counts (key, window) entries and drops to
 * zero when every window is gone.
 *
 * Checkpoints track changes per key (a key's windows are one snapshot entry): `set` and
 * `delete` record the change, `get` lets a snapshot being read preserve the key's windows first
 * (the caller may change a value in place: a list of records, an accumulator), and `touch`
 * records a change made in place without a `set`.
 */
export class WindowTable<V> {
  private readonly byKey = new Map<unknown, KeyWindows<V>>();
  readonly tracker: ChangeTracker<KeyWindows<V>>;
  private count = 0;
  /**
   * The last key looked up and its windows: a record touches all its windows (10 for a sliding
   * window of 10 slides) under one key, so this saves a lookup in the big per-key Map for each.
   */
  private lastKey: unknown = NO_KEY;
  private lastWindows: KeyWindows<V> | undefined;

  /** `state` names the table in snapshots and errors. */
  constructor(readonly state: string) {
    this.tracker = new ChangeTracker<KeyWindows<V>>(
      this.byKey,
      (windows) => {
        const copy = new KeyWindows<V>();
        for (const [id, value] of windows) copy.set(id, copyValue(value));
        return copy;
      },
      (key, cause) => StateNotSnapshottableError.of(state, keyOfMapKey(key), cause),
    );
  }

  private windowsOf(mapKey: unknown): KeyWindows<V> | undefined {
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
    if (this.tracker.reading) this.tracker.preserve(mapKey);
    return this.windowsOf(mapKey)?.get(windowId);
  }

  set(mapKey: unknown, windowId: unknown, value: V): void {
    let windows = this.windowsOf(mapKey);
    if (this.tracker.tracking) this.record(mapKey, windows);
    if (windows === undefined) {
      windows = new KeyWindows();
      this.byKey.set(mapKey, windows);
      this.lastWindows = windows;
    }
    const before = windows.size;
    windows.set(windowId, value);
    if (windows.size > before) this.count++;
  }

  /** A value of `mapKey` was changed in place. */
  touch(mapKey: unknown): void {
    if (this.tracker.tracking) this.record(mapKey, this.windowsOf(mapKey));
  }

  /** Records a change of `mapKey`: once per epoch when its windows exist (no Set lookup per write). */
  private record(mapKey: unknown, windows: KeyWindows<V> | undefined): void {
    if (windows === undefined) this.tracker.change(mapKey);
    else this.tracker.changeOnce(mapKey, windows);
  }

  /** Removes the entry; returns what it held. */
  delete(mapKey: unknown, windowId: unknown): V | undefined {
    const windows = this.windowsOf(mapKey);
    if (windows === undefined) return undefined;
    const value = windows.get(windowId);
    if (value === undefined && !windows.has(windowId)) return undefined;
    if (this.tracker.tracking) this.record(mapKey, windows);
    windows.delete(windowId);
    this.count--;
    if (windows.size === 0) {
      this.byKey.delete(mapKey);
      this.lastWindows = undefined;
    }
    return value;
  }

  /**
   * The table as keyed state: one entry per key, `[[windowId, value], ...]`, values through
   * `codec` when given. Restoring sets the entries back.
   */
  checkpointed(maxParallelism: number, codec?: ValueCodec): KeyedStatePart {
    return new TrackedMapState<KeyWindows<V>>({
      state: this.state,
      tracker: this.tracker,
      maxParallelism,
      encode: (windows) =>
        Array.from(windows, ([id, value]) => [id, codec === undefined ? value : codec.encode(value)]),
      restore: (mapKey, encoded) => {
        for (const [id, value] of encoded as Array<[unknown, unknown]>) {
          this.set(mapKey, id, (codec === undefined ? value : codec.decode(value)) as V);
        }
      },
    });
  }
}

/** No key: a value no Map key can be. */
const NO_KEY = Symbol("no key");
