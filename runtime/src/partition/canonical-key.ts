/**
 * The string under which a composite (tuple) key is stored in maps, so equal tuples meet.
 * Primitive keys are stored as themselves (1 and "1" stay different keys).
 */
export function canonicalKey(key: readonly unknown[]): string {
  return JSON.stringify(key, (_k, v) => (typeof v === "bigint" ? `${v}n` : v));
}

/** A key as a Map key: primitives as they are, tuples in canonical form. */
export function mapKeyOf(key: unknown): unknown {
  return typeof key === "object" && key !== null ? canonicalKey(key as readonly unknown[]) : key;
}
