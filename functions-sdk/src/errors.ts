/**
 * Base of every error Keyflow raises. Branch on `code`, not on `instanceof`: errors cross
 * worker threads and msgpackr, where the prototype chain is lost but `code` survives.
 */
export abstract class KeyflowError extends Error {
  abstract readonly code: string;
  /** True when retrying the same action may succeed (a transient outage), false when it never will. */
  readonly retriable: boolean = false;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The job graph cannot run as built; names the operator that is wrong. Terminal. */
export class InvalidJobError extends KeyflowError {
  readonly code = "JOB_INVALID";
  constructor(
    readonly operator: string,
    problem: string,
    options?: ErrorOptions,
  ) {
    super(`operator "${operator}": ${problem}`, options);
  }
}

/**
 * An operator that works in event time got a record without a timestamp (the interval join, for
 * one). Thrown inside the operator's function, so the runtime reports it as that function's
 * failure, naming the operator, the shard and the record. Terminal: give the input a watermark
 * strategy.
 */
export class MissingTimestampError extends KeyflowError {
  readonly code = "RECORD_TIMESTAMP_MISSING";
  constructor(
    readonly operator: string,
    readonly input: string,
    options?: ErrorOptions,
  ) {
    super(
      `${operator} needs event timestamps, but a record of its ${input} input has none: give that input a ` +
        "WatermarkStrategy (env.fromSource(source, name, strategy) or stream.assignTimestampsAndWatermarks(strategy))",
      options,
    );
  }
}

/** Shortens a record for an error message so a huge record does not flood logs. */
export function describeRecord(record: unknown, maxLength = 200): string {
  let text: string;
  try {
    text = typeof record === "string" ? JSON.stringify(record) : (JSON.stringify(record, bigintSafe) ?? String(record));
  } catch {
    text = String(record);
  }
  return text.length > maxLength ? `${text.slice(0, maxLength)}… (${text.length} chars)` : text;
}

function bigintSafe(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? `${value}n` : value;
}
