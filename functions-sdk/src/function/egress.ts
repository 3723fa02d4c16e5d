/**
 * Names a stream leaving a functions operator and carries its record type, like `outputTag`:
 * handlers emit with `ctx.egress(tag, value)`, the job reads the stream with
 * `functions.egress(tag)`, a `DataStream<T>` that goes to any sink or operator. Two egress tags
 * are the same egress when their ids are equal.
 *
 * ```ts
 * const totals = egress<{ id: string; total: number }>("totals");
 * ```
 */
export interface Egress<T> {
  readonly id: string;
  /** Phantom field carrying the record type; never set at run time. */
  readonly __type?: T;
}

/** Creates an egress tag: `const alerts = egress<Alert>("alerts")`. */
export function egress<T>(id: string): Egress<T> {
  if (typeof id !== "string" || id.length === 0) throw new TypeError("an egress needs a non-empty id");
  return { id };
}

/**
 * What a dead-letter egress receives when a handler throws and the functions operator was given
 * `deadLetters`: the message, where it went, who sent it and the error (as plain data).
 */
export interface DeadLetter {
  readonly address: { readonly type: string; readonly id: string };
  /** The sending function (also for a delayed message), or undefined for a message from ingress. */
  readonly caller: { readonly type: string; readonly id: string } | undefined;
  readonly message: unknown;
  readonly error: { readonly name: string; readonly message: string; readonly code: string | undefined };
}
