import type { StateTtl } from "./ttl.js";

/** Folds values of one type into an accumulator and reads a result out of it. */
export interface AggregateFunction<IN, ACC, OUT> {
  createAccumulator(): ACC;
  add(value: IN, accumulator: ACC): ACC;
  getResult(accumulator: ACC): OUT;
  merge?(a: ACC, b: ACC): ACC;
}

/**
 * Turns a value of state written by an older version of a job into the type the current version
 * declares. `old` is what the checkpoint held at `fromVersion` (msgpack-decoded, so plain data:
 * objects, arrays, Maps, primitives), never a value of the current type. Runs once per stored
 * value when a checkpoint or savepoint with a lower version of the state is restored, before the
 * function sees any record; a hook that throws fails the restore, naming the state and the key.
 *
 * @example
 * valueState<Reading>({ version: 2, migrate: (old) => ({ kelvin: (old as { celsius: number }).celsius + 273.15 }) })
 */
export type StateMigration<T> = (old: unknown, fromVersion: number) => T;

/**
 * The schema version of a state: an integer >= 1 (default 1) stored with every checkpoint. A
 * restore whose stored version is lower runs `migrate` on each stored value (for lists, on each
 * element; for maps, on each value, keys unchanged; for reducing and aggregating state, on the
 * stored value or accumulator); without `migrate`, or with a stored version higher than this one,
 * the restore fails. Changes msgpack absorbs (a field added or removed) need no new version: see
 * runtime/docs/checkpoint-format.md.
 */
export interface Versioned<T> {
  /** Default 1. */
  readonly version?: number;
  /** How values stored at a lower version become this version's; only with `version` above 1. */
  readonly migrate?: StateMigration<T>;
}

interface DescriptorBase {
  readonly ttl?: StateTtl;
  /** The state's schema version (absent: 1). */
  readonly version?: number;
}

/** One value per key. */
export interface ValueStateDescriptor<T> extends DescriptorBase {
  readonly kind: "value";
  readonly defaultValue?: T;
  readonly migrate?: StateMigration<T>;
}
/** A list per key. */
export interface ListStateDescriptor<T> extends DescriptorBase {
  readonly kind: "list";
  /** Phantom: the element type. */
  readonly __type?: T;
  /** Migrates one element of a stored list. */
  readonly migrate?: StateMigration<T>;
}
/** A map per key. */
export interface MapStateDescriptor<K, V> extends DescriptorBase {
  readonly kind: "map";
  readonly __type?: [K, V];
  /** Migrates one value of a stored map; its key is kept as stored. */
  readonly migrate?: StateMigration<V>;
}
/** A value per key folded with `reduce` on every add. */
export interface ReducingStateDescriptor<T> extends DescriptorBase {
  readonly kind: "reducing";
  readonly reduce: (a: T, b: T) => T;
  readonly migrate?: StateMigration<T>;
}
/** An accumulator per key; `get()` returns the aggregate's result. */
export interface AggregatingStateDescriptor<IN, ACC, OUT> extends DescriptorBase {
  readonly kind: "aggregating";
  readonly aggregate: AggregateFunction<IN, ACC, OUT>;
  /** Migrates a stored accumulator. */
  readonly migrate?: StateMigration<ACC>;
}

export type StateDescriptor =
  | ValueStateDescriptor<unknown>
  | ListStateDescriptor<unknown>
  | MapStateDescriptor<unknown, unknown>
  // biome-ignore lint/suspicious/noExplicitAny: `reduce` takes its values as parameters, so a typed descriptor is not a ReducingStateDescriptor<unknown>
  | ReducingStateDescriptor<any>
  // biome-ignore lint/suspicious/noExplicitAny: the accumulator type is private to each descriptor
  | AggregatingStateDescriptor<any, any, any>;

/** The state a function declares: a name for each descriptor. The name is the state's id in snapshots. */
export type StateDeclarations = Record<string, StateDescriptor>;

/** Options every state takes: a TTL, and a schema version with its migration (see Versioned). */
export interface StateOptions<T> extends Versioned<T> {
  readonly ttl?: StateTtl;
}

export function valueState<T>(options: StateOptions<T> & { defaultValue?: T } = {}): ValueStateDescriptor<T> {
  check(options);
  return { kind: "value", ...options };
}
/** `migrate` takes one element of a stored list. */
export function listState<T>(options: StateOptions<T> = {}): ListStateDescriptor<T> {
  check(options);
  return { kind: "list", ...options };
}
/** `migrate` takes one value of a stored map (keys stay as they are). */
export function mapState<K, V>(options: StateOptions<V> = {}): MapStateDescriptor<K, V> {
  check(options);
  return { kind: "map", ...options };
}
export function reducingState<T>(reduce: (a: T, b: T) => T, options: StateOptions<T> = {}): ReducingStateDescriptor<T> {
  check(options);
  return { kind: "reducing", reduce, ...options };
}
/** `migrate` takes the stored accumulator. */
export function aggregatingState<IN, ACC, OUT>(
  aggregate: AggregateFunction<IN, ACC, OUT>,
  options: StateOptions<ACC> = {},
): AggregatingStateDescriptor<IN, ACC, OUT> {
  check(options);
  return { kind: "aggregating", aggregate, ...options };
}

function check(options: StateOptions<unknown>): void {
  checkTtl(options.ttl);
  const version = options.version ?? 1;
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new RangeError(`state version must be an integer >= 1, got ${String(options.version)}`);
  }
  // A hook at version 1 could never run: nothing is stored at a lower version.
  if (options.migrate !== undefined && version === 1) {
    throw new RangeError("a state with a migrate hook needs a version above 1");
  }
}

function checkTtl(ttl: StateTtl | undefined): void {
  if (ttl !== undefined && !(ttl.ttlMs > 0)) {
    throw new RangeError(`state ttl must be a positive number of milliseconds, got ${ttl.ttlMs}`);
  }
}
