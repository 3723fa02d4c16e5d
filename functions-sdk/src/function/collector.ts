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
