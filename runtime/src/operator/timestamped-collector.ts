import type { Collector } from "@keyflow/functions-sdk";
import type { Output } from "./operator.js";

/** The `out` given to user functions: emits to the main output with the current record's timestamp. */
export class TimestampedCollector implements Collector<unknown> {
  /** @internal Set by the operator before each call. */
  ts = Number.NaN;

  constructor(private readonly output: Output) {}

  collect(value: unknown): void {
    this.output.collect(value, this.ts);
  }
}
