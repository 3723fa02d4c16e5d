import type {
  AggregateFunction,
  StateDeclarations,
  StateDescriptor,
  StateHandleOf,
  StateHandles,
} from "@keyflow/functions-sdk";
import type { KeyedStatePart } from "../state/keyed-state-part.js";
import {
  AggregatingHandle,
  ListHandle,
  MapHandle,
  ReducingHandle,
  type StateCell,
  ValueHandle,
} from "../state/state-handles.js";
import type { ValueCodec } from "../state/state-table.js";
import { WindowTable } from "./window-table.js";

type Accumulating = AggregateFunction<unknown, unknown, unknown>;

/**
 * State per key, window and name: a trigger's `ctx.state(name, descriptor)` and a process
 * window function's `windowState`. Like keyed state handles, which resolve the current key on
 * each call, these handles resolve the store's current key and window (`at`), which the
 * operator sets before it calls user code; so a handle is made once per name, not per call.
 *
 * A window's state goes with the window (`clearWindow` when it is cleaned up), so descriptors'
 * TTL is not applied here.
 *
 * Checkpoints: keyed state named by the store (`state`), one entry per key:
 * `[[windowId, [[name, kind, value], ...]], ...]`, kind 1 for map state (its Map as pairs), 0 else.
 */
export class WindowStateStore {
  private readonly table: WindowTable<Map<string, unknown>>;
  private readonly byName = new Map<string, { readonly descriptor: StateDescriptor; readonly handle: unknown }>();
  /** @internal The current key, as a Map key. */
  mapKey: unknown;
  /** @internal The current window's id. */
  windowId: unknown;

  /** `state`: the snapshot name, "__window/state" (a process window function's) or "__window/trigger". */
  constructor(state = "__window/state") {
    this.table = new WindowTable<Map<string, unknown>>(state);
  }

  /** The store as a part of the operator's keyed state. */
  checkpointed(maxParallelism: number): KeyedStatePart {
    return this.table.checkpointed(maxParallelism, NAMED_VALUES);
  }

  /** Number of (key, window) pairs holding any state. */
  get size(): number {
    return this.table.size;
  }

  /** Makes (key, window) current for every handle of this store. */
  at(mapKey: unknown, windowId: unknown): void {
    this.mapKey = mapKey;
    this.windowId = windowId;
  }

  /** @internal */
  read(name: string): unknown {
    return this.table.get(this.mapKey, this.windowId)?.get(name);
  }

  /** @internal Sets the current window's value of `name`; undefined removes it. */
  write(name: string, value: unknown): void {
    let values = this.table.get(this.mapKey, this.windowId);
    if (value === undefined) {
      if (values === undefined) return;
      this.table.touch(this.mapKey);
      values.delete(name);
      if (values.size === 0) this.table.delete(this.mapKey, this.windowId);
      return;
    }
    if (values === undefined) {
      values = new Map();
      this.table.set(this.mapKey, this.windowId, values);
    } else this.table.touch(this.mapKey);
    values.set(name, value);
  }

  /** @internal The current window's value was changed in place (a list add, a map put). */
  touch(): void {
    this.table.touch(this.mapKey);
  }

  /** Drops every state of one (key, window). */
  clearWindow(mapKey: unknown, windowId: unknown): void {
    this.table.delete(mapKey, windowId);
  }

  /** The handle of `name` (made on first use; a different descriptor for the name makes a new one). */
  handle<D extends StateDescriptor>(name: string, descriptor: D): StateHandleOf<D> {
    const cached = this.byName.get(name);
    if (cached !== undefined && cached.descriptor === descriptor) return cached.handle as StateHandleOf<D>;
    const handle = this.makeHandle(name, descriptor);
    this.byName.set(name, { descriptor, handle });
    return handle as StateHandleOf<D>;
  }

  handles<S extends StateDeclarations>(declarations: S): StateHandles<S> {
    const handles: Record<string, unknown> = {};
    for (const [name, descriptor] of Object.entries(declarations)) handles[name] = this.handle(name, descriptor);
    return handles as StateHandles<S>;
  }

  /**
   * Merges the value of `name` in the windows `sources` of a key into `target` (windows merged
   * by a merging assigner), as Flink's merging state does: the sources are folded in order and
   * removed, then folded after the target's own value. Reducing, aggregating (with `merge`) and
   * list state merge; other kinds throw.
   */
  merge(
    name: string,
    descriptor: StateDescriptor,
    mapKey: unknown,
    target: unknown,
    sources: readonly unknown[],
  ): void {
    const combine = combinerOf(name, descriptor);
    const savedKey = this.mapKey;
    const savedWindow = this.windowId;
    try {
      let merged: unknown;
      for (const source of sources) {
        if (source === target) continue;
        this.at(mapKey, source);
        const value = this.read(name);
        if (value === undefined) continue;
        this.write(name, undefined);
        merged = merged === undefined ? value : combine(merged, value);
      }
      if (merged === undefined) return;
      this.at(mapKey, target);
      const current = this.read(name);
      this.write(name, current === undefined ? merged : combine(current, merged));
    } finally {
      this.at(savedKey, savedWindow);
    }
  }

  private makeHandle(name: string, descriptor: StateDescriptor): unknown {
    switch (descriptor.kind) {
      case "value":
        return new ValueHandle(new WindowCell(this, name), descriptor.defaultValue);
      case "list":
        return new ListHandle(new WindowCell<unknown[]>(this, name));
      case "map":
        return new MapHandle(new WindowCell<Map<unknown, unknown>>(this, name));
      case "reducing":
        return new ReducingHandle(new WindowCell(this, name), descriptor.reduce);
      case "aggregating":
        return new AggregatingHandle(new WindowCell(this, name), descriptor.aggregate as Accumulating);
    }
  }
}

/** A window's named values in a snapshot: [name, 1, pairs] for a Map (map state), [name, 0, value] otherwise. */
const NAMED_VALUES: ValueCodec = {
  encode: (values) =>
    Array.from(values as Map<string, unknown>, ([name, value]) =>
      value instanceof Map ? [name, 1, Array.from(value)] : [name, 0, value],
    ),
  decode: (encoded) =>
    new Map(
      (encoded as Array<[string, number, unknown]>).map(([name, kind, value]) => [
        name,
        kind === 1 ? new Map(value as Array<[unknown, unknown]>) : value,
      ]),
    ),
};

function combinerOf(name: string, descriptor: StateDescriptor): (a: unknown, b: unknown) => unknown {
  switch (descriptor.kind) {
    case "reducing":
      return descriptor.reduce as (a: unknown, b: unknown) => unknown;
    case "aggregating": {
      const aggregate = descriptor.aggregate as Accumulating;
      const merge = aggregate.merge;
      if (merge === undefined) {
        throw new TypeError(`aggregating state "${name}" cannot be merged: its AggregateFunction has no merge`);
      }
      return (a, b) => merge.call(aggregate, a, b);
    }
    case "list":
      return (a, b) => (a as unknown[]).concat(b as unknown[]);
    default:
      throw new TypeError(
        `state "${name}" is ${descriptor.kind} state, which cannot be merged (reducing, aggregating and list state can)`,
      );
  }
}

/** One named value of the window a WindowStateStore is at. */
class WindowCell<T> implements StateCell<T> {
  constructor(
    private readonly store: WindowStateStore,
    private readonly name: string,
  ) {}
  read(): T | undefined {
    return this.store.read(this.name) as T | undefined;
  }
  write(value: T | undefined): void {
    this.store.write(this.name, value);
  }
  touch(): void {
    this.store.touch();
  }
}
