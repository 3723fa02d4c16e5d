import type { StateDescriptor } from "@keyflow/functions-sdk";

/** Turns one restored value of a table (as its codec decoded it: a Map for map state) into the current version's. */
export type ValueMigration = (value: unknown) => unknown;

/** The version a descriptor declares (1 when it says nothing). */
export function versionOf(descriptor: StateDescriptor): number {
  return descriptor.version ?? 1;
}

/**
 * How a table's restored values of `descriptor` are brought forward from `fromVersion`, or
 * undefined when the descriptor has no hook. The hook's granularity follows the state's kind:
 * a value, a reducing value and an accumulator are migrated whole; a list element by element
 * (a list handle hands out elements, so that is the type the user declared); a map value by
 * value, keys as stored (keys are what the user looks values up by, so changing them would be a
 * re-keying, not a migration).
 */
export function migrationOf(descriptor: StateDescriptor, fromVersion: number): ValueMigration | undefined {
  const migrate = descriptor.migrate as ((old: unknown, fromVersion: number) => unknown) | undefined;
  if (migrate === undefined) return undefined;
  switch (descriptor.kind) {
    case "list":
      return (value) => {
        if (!Array.isArray(value)) throw new TypeError("a stored list is not an array");
        return value.map((element) => migrate(element, fromVersion));
      };
    case "map":
      return (value) => {
        const map = value as Map<unknown, unknown>;
        const out = new Map<unknown, unknown>();
        for (const [key, element] of map) out.set(key, migrate(element, fromVersion));
        return out;
      };
    default:
      return (value) => migrate(value, fromVersion);
  }
}

/**
 * A migration hook threw for the value under `mapKey`: raised by the table, turned into a
 * StateMigrationError by the operator's restore, which knows the operator and the versions.
 * Internal: it never leaves the restoring thread.
 */
export class MigrationFailure extends Error {
  constructor(
    readonly mapKey: unknown,
    override readonly cause: unknown,
  ) {
    super("a state migration hook threw", { cause });
  }
}
