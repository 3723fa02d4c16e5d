import { KeyflowError } from "@keyflow/functions-sdk";

/**
 * Why a queryable-state query got no answer:
 * - "QUERY_FUNCTION_TYPE_UNKNOWN": no functions operator of the job hosts the type (terminal; the
 *   message and `details.known` name the types there are);
 * - "QUERY_OPERATOR_UNKNOWN": no queryable keyed operator has the uid (terminal; `details.known`);
 * - "QUERY_TARGET_AMBIGUOUS": several functions operators host the type: give the uid (terminal);
 * - "QUERY_INVALID": the query is malformed (no type or uid, a function id that is not a string);
 * - "QUERY_SHARD_UNAVAILABLE": the shard owning the key does not run now (starting, restarting,
 *   finished, failed) or did not answer in time (retriable);
 * - "QUERY_JOB_UNREACHABLE": nothing answers for the job (no such run, NATS down, no node
 *   answered in time) (retriable).
 */
export type StateQueryErrorCode =
  | "QUERY_FUNCTION_TYPE_UNKNOWN"
  | "QUERY_OPERATOR_UNKNOWN"
  | "QUERY_TARGET_AMBIGUOUS"
  | "QUERY_INVALID"
  | "QUERY_SHARD_UNAVAILABLE"
  | "QUERY_JOB_UNREACHABLE";

/** A query's failure as it crosses a thread, NATS or the control socket. */
export interface WireQueryError {
  readonly code: StateQueryErrorCode;
  readonly message: string;
  readonly details: Readonly<Record<string, unknown>>;
}

/**
 * A queryable-state query failed; `code` says why (see StateQueryErrorCode), `details` carry the
 * names involved (`known`: the function types or uids there are; `shard`, `keyGroup`). The same
 * class on every side: the asker rebuilds it from the wire form, so branch on `code`.
 */
export class StateQueryError extends KeyflowError {
  override readonly retriable: boolean;
  constructor(
    readonly code: StateQueryErrorCode,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.retriable = code === "QUERY_SHARD_UNAVAILABLE" || code === "QUERY_JOB_UNREACHABLE";
  }

  toWire(): WireQueryError {
    return { code: this.code, message: this.message, details: this.details };
  }

  static fromWire(wire: WireQueryError): StateQueryError {
    return new StateQueryError(wire.code, wire.message, wire.details ?? {});
  }

  /** `error` as a wire error: a StateQueryError as it is, anything else as unavailable (with its message). */
  static wireOf(error: unknown): WireQueryError {
    if (error instanceof StateQueryError) return error.toWire();
    const code = (error as { code?: unknown } | undefined)?.code;
    const message = error instanceof Error ? error.message : String(error);
    return { code: "QUERY_SHARD_UNAVAILABLE", message, details: typeof code === "string" ? { cause: code } : {} };
  }
}
