/** Receives the records a function emits. Calls are synchronous and go straight down the chain. */
export interface Collector<T> {
  collect(value: T): void;
}

/**
 * Names a side output and carries its record type, so `getSideOutput(tag)` is typed.
 * Two tags are the same side output when their ids are equal.
 */
export interface OutputTag<T> {
  readonly id: string;
  /** Phantom field carrying the record type; never set at run time. */
  readonly __type?: T;
}

/** Creates a side-output tag: `const late = outputTag<Reading>("late-readings")`. */
export function outputTag<T>(id: string): OutputTag<T> {
  if (id.length === 0) throw new TypeError("an output tag needs a non-empty id");
  return { id };
}

/**
 * @internal Offered by the runtime's `out` and `ctx` of keyed co-process functions: replaces the
 * timestamp of the records (and side-output records) they emit until the runtime starts the next
 * record or timer. The interval join stamps each pair with the later of its two timestamps through
 * it, as Flink's operator does with its TimestampedCollector. Not for user functions.
 */
export interface TimestampOverride {
  setAbsoluteTimestamp(timestamp: number): void;
}
