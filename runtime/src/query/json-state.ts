/**
 * A state value in a form JSON keeps: a Map becomes an object when its keys are strings or
 * numbers (else an array of [key, value] pairs), a Set an array, a bigint its decimal string.
 * For `keyflow query` and the control socket, which speak JSON; programmatic clients get the
 * values as they are.
 */
export function toJsonValue(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (value instanceof Map) {
    const plainKeys = [...value.keys()].every((k) => typeof k === "string" || typeof k === "number");
    if (plainKeys) return Object.fromEntries([...value].map(([k, v]) => [String(k), toJsonValue(v)]));
    return [...value].map(([k, v]) => [toJsonValue(k), toJsonValue(v)]);
  }
  if (value instanceof Set) return [...value].map(toJsonValue);
  if (value instanceof Date) return value.toISOString();
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = toJsonValue(v);
  return out;
}
