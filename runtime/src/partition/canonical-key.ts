import type { Key } from "@keyflow/functions-sdk";

/**
 * The first character of a tuple key's Map-key form. Tuples are stored under a string (so equal
 * tuples meet) that a snapshot must turn back into the tuple (its key group is the tuple's hash,
 * and timers need the real key): the prefix tells a tuple's form from a string key, which is
 * stored as itself. String keys beginning with U+0000 "[" are reserved for this.
 */
const TUPLE_PREFIX = "\u0000";

/**
 * The string under which a composite (tuple) key is stored in maps, so equal tuples meet:
 * U+0000 then JSON, with bigints as {"n": digits} and non-finite numbers as {"f": "NaN"} (JSON
 * has neither), so `keyOfMapKey` gives the tuple back exactly. Primitive keys are stored as
 * themselves (1 and "1" stay different keys).
 */
export function canonicalKey(key: readonly unknown[]): string {
  return TUPLE_PREFIX + JSON.stringify(key, tagged);
}

/** A key as a Map key: primitives as they are, tuples in canonical form. */
export function mapKeyOf(key: unknown): unknown {
  return typeof key === "object" && key !== null ? canonicalKey(key as readonly unknown[]) : key;
}

/** The key a Map key stands for: the tuple back from its canonical form, a primitive as it is. */
export function keyOfMapKey(mapKey: unknown): Key {
  if (typeof mapKey === "string" && mapKey.charCodeAt(0) === 0 && mapKey.charCodeAt(1) === 91 /* [ */) {
    return JSON.parse(mapKey.slice(1), untagged) as Key;
  }
  return mapKey as Key;
}

function tagged(_k: string, v: unknown): unknown {
  if (typeof v === "bigint") return { n: v.toString() };
  if (typeof v === "number" && !Number.isFinite(v)) return { f: String(v) };
  return v;
}

function untagged(_k: string, v: unknown): unknown {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return v;
  const tag = v as { n?: string; f?: string };
  return tag.n !== undefined ? BigInt(tag.n) : Number(tag.f);
}
