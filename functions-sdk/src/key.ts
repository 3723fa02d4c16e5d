/**
 * What a key selector may return. Keys are hashed to key groups by value, so two equal keys
 * always land on the same shard, in every process and every version (the hash is part of the
 * savepoint format). Composite keys are readonly tuples of these.
 */
export type KeyPrimitive = string | number | bigint | boolean;
export type Key = KeyPrimitive | readonly KeyPrimitive[];

/** Extracts the key of a record. Must be deterministic: the same record gives the same key. */
export type KeySelector<T, K extends Key = Key> = (value: T) => K;
