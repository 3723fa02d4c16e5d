import type { BroadcastStateDeclarations, MapState } from "@keyflow/functions-sdk";
import { copyValue } from "./copy-value.js";
import { StateRestoreError } from "./errors.js";
import type { OperatorListStatePart } from "./operator-state-snapshots.js";
import type { OperatorListState } from "./snapshot.js";

/** The operator list state broadcast state is checkpointed as. */
export const BROADCAST_STATE = "__broadcast";

/**
 * Broadcast state: one map per declaration, the same on every shard because every shard sees the
 * same broadcast elements in the same order. Plain maps; the record side gets read-only views.
 *
 * Checkpoints: "union" operator list state named "__broadcast", one item per map,
 * `[name, [[key, value], ...]]`, copied at the mark (broadcast state is small: rules, thresholds).
 * Every shard checkpoints the same maps; on restore, at any parallelism, every shard gets the
 * union of all old shards' items and takes the first copy of each map.
 */
export class BroadcastStateStore implements OperatorListStatePart {
  readonly maps = new Map<string, Map<unknown, unknown>>();

  constructor(
    declarations: BroadcastStateDeclarations,
    /** The operator (and shard), for errors. */
    private readonly owner = "broadcast",
  ) {
    for (const name of Object.keys(declarations)) this.maps.set(name, new Map());
  }

  /** Writable handles, for the broadcast side. */
  handles(): Record<string, MapState<unknown, unknown>> {
    const handles: Record<string, MapState<unknown, unknown>> = {};
    for (const [name, map] of this.maps) handles[name] = mapHandle(map);
    return handles;
  }

  /** Read-only handles, for the record side: no mutating methods at all. */
  readOnlyHandles(): Record<string, unknown> {
    const handles: Record<string, unknown> = {};
    for (const [name, map] of this.maps) {
      const { get, contains, entries, keys, values, isEmpty } = mapHandle(map);
      handles[name] = Object.freeze({ get, contains, entries, keys, values, isEmpty });
    }
    return handles;
  }

  snapshot(): Readonly<Record<string, OperatorListState>> {
    const items = Array.from(this.maps, ([name, map]) => [
      name,
      Array.from(map, ([key, value]) => [copyValue(key), copyValue(value)]),
    ]);
    return { [BROADCAST_STATE]: { distribution: "union", items } };
  }

  restore(state: Readonly<Record<string, readonly unknown[]>>): void {
    const items = state[BROADCAST_STATE] ?? [];
    const restored = new Set<string>();
    for (const item of items) {
      if (!Array.isArray(item) || typeof item[0] !== "string" || !Array.isArray(item[1])) {
        throw new StateRestoreError(this.owner, BROADCAST_STATE, "an item is not [name, [[key, value], ...]]");
      }
      const name = item[0];
      const map = this.maps.get(name);
      if (map === undefined) {
        throw new StateRestoreError(this.owner, name, "the function declares no broadcast state of that name");
      }
      if (restored.has(name)) continue; // another old shard's copy of the same map
      restored.add(name);
      map.clear();
      for (const [key, value] of item[1] as Array<[unknown, unknown]>) map.set(key, value);
    }
  }
}

function mapHandle(map: Map<unknown, unknown>): MapState<unknown, unknown> {
  return {
    get: (key) => map.get(key),
    put: (key, value) => void map.set(key, value),
    putAll: (entries) => {
      for (const [key, value] of entries) map.set(key, value);
    },
    remove: (key) => void map.delete(key),
    contains: (key) => map.has(key),
    entries: () => Array.from(map),
    keys: () => Array.from(map.keys()),
    values: () => Array.from(map.values()),
    isEmpty: () => map.size === 0,
    clear: () => map.clear(),
  };
}
