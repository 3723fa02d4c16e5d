/**
 * An error as it crosses a thread or a process: plain fields, since the prototype chain does
 * not survive postMessage or msgpackr. Branch on `code`.
 */
export interface SerializedError {
  readonly code: string;
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
  /** Operator, shard and record fields of a user function error (a function handler's type and id), when present. */
  readonly details: Record<string, string>;
}

export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) {
    return { code: "UNKNOWN", name: "Error", message: String(error), stack: undefined, details: {} };
  }
  const details: Record<string, string> = {};
  for (const field of ["operator", "shard", "record", "url", "functionType", "functionId"]) {
    const value = (error as unknown as Record<string, unknown>)[field];
    if (typeof value === "string") details[field] = value;
  }
  // The cause's code survives as a detail: a file source's FILE_NOT_FOUND stays visible behind USER_FUNCTION_FAILED.
  const causeCode = (error.cause as { code?: unknown } | undefined)?.code;
  if (typeof causeCode === "string") details.causeCode = causeCode;
  const code = (error as { code?: unknown }).code;
  return {
    code: typeof code === "string" ? code : "UNKNOWN",
    name: error.name,
    message: error.message,
    stack: error.stack,
    details,
  };
}
