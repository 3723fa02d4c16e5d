import type { Collector } from "@keyflow/functions-sdk";
import type { Output } from "./operator.js";

/**
 * The `out` given to user functions: emits to the main output with the current record's
 * timestamp (the SDK's internal `TimestampOverride` may replace it within one call).
 */
export class TimestampedCollector implements Collector<unknown> {
  /** @internal Set by the operator before each call. */
  ts = Number.NaN;

  constructor(private readonly output: Output) {}

  collect(value: unknown): void {
    this.output.collect(value, this.ts);
  }

  /**
   * Stamps what is collected from now until the operator starts its next record or timer (the
   * SDK's interval join gives each pair the later of its two timestamps).
   */
  setAbsoluteTimestamp(timestamp: number): void {
    this.ts = timestamp;
  }
}
