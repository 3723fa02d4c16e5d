/**
 * An owned copy of a state value, preserved for a snapshot while the live value changes:
 * primitives as they are, arrays and Maps of primitives copied shallowly (the common list and
 * map state), anything else structured-cloned (nested objects a user may change in place).
 * Class instances come back as plain objects, as they would from msgpack: the copy only goes to
 * the snapshot, the live value keeps its prototype.
 */
export function copyValue<V>(value: V): V {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) {
    if (value.every(isPrimitive)) return value.slice() as V;
  } else if (value instanceof Map) {
    let flat = true;
    for (const [k, v] of value) {
      if (!isPrimitive(k) || !isPrimitive(v)) {
        flat = false;
        break;
      }
    }
    if (flat) return new Map(value) as V;
  }
  return structuredClone(value);
}

function isPrimitive(value: unknown): boolean {
  return typeof value !== "object" || value === null;
}
