import { keyOfMapKey } from "../partition/canonical-key.js";
import { keyGroupOf } from "../partition/key-groups.js";
import { ABSENT, type ChangeTracker, type SnapshotMode } from "../util/change-tracker.js";
import type { KeyedPartSnapshot, KeyedStatePart } from "./keyed-state-part.js";
import { DELETED, type KeyedStateEntry } from "./snapshot.js";

export interface TrackedMapStateOptions<V, C> {
  /** The state name of the entries. */
  readonly state: string;
  /** The tracker of the structure: its live Map holds one value per key (as a Map key). */
  readonly tracker: ChangeTracker<V>;
  readonly maxParallelism: number;
  /** What the snapshot needs to know from the moment of its mark (the watermark, say). */
  readonly atMark?: () => C;
  /** A key's value as the snapshot holds it (msgpack-encodable); `value` may be live: encode it now. */
  encode(value: V, mapKey: unknown, mark: C): unknown;
  /** Puts one key's value back, before processing starts. */
  restore(mapKey: unknown, encoded: unknown): void;
  /** Every entry is back (rebuild what follows from the state, such as timers). */
  restored?(): void;
}

/**
 * A structure holding one value per key (a window table, a key's merging windows, the aligned
 * window path's contents) as a part of an operator's keyed state: one entry per key, named
 * `state`, with the key group of the key the Map key stands for.
 */
export class TrackedMapState<V, C = undefined> implements KeyedStatePart {
  constructor(private readonly options: TrackedMapStateOptions<V, C>) {}

  get hasBase(): boolean {
    return this.options.tracker.hasBase;
  }

  snapshot(checkpointId: number, mode: SnapshotMode): KeyedPartSnapshot {
    const { state, tracker, maxParallelism, encode } = this.options;
    const mark = this.options.atMark?.() as C;
    const read = tracker.mark(checkpointId, mode);
    return {
      entries: read.entries(
        (mapKey, value): KeyedStateEntry => ({
          keyGroup: keyGroupOf(keyOfMapKey(mapKey), maxParallelism),
          state,
          key: mapKey,
          value: value === ABSENT ? DELETED : encode(value, mapKey, mark),
        }),
      ),
      release: () => read.release(),
    };
  }

  checkpointComplete(checkpointId: number): void {
    this.options.tracker.complete(checkpointId);
  }

  owns(name: string): boolean {
    return name === this.options.state;
  }

  restoreEntry(entry: KeyedStateEntry): void {
    if (entry.value !== DELETED) this.options.restore(entry.key, entry.value);
  }

  restored(): void {
    this.options.tracker.startFromBase();
    this.options.restored?.();
  }
}
