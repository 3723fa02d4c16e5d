import type { BroadcastStateDeclarations, MapState } from "@keyflow/functions-sdk";

/**
 * Broadcast state: one map per declaration, the same on every shard because every shard sees the
 * same broadcast elements in the same order. Plain maps; the record side gets read-only views.
 */
export class BroadcastStateStore {
  readonly maps = new Map<string, Map<unknown, unknown>>();

  constructor(declarations: BroadcastStateDeclarations) {
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
