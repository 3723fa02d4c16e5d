/**
 * Time-to-live of keyed state, in processing time (as Flink's StateTtlConfig).
 *
 * - `update`: when the expiry clock restarts: on create and write (default), or also on read.
 * - `visibility`: expired values are never returned (default); "returnExpiredIfNotCleanedUp"
 *   may return a value that expired but was not yet cleaned.
 * Expired entries are removed when read, and by a background sweep over the key groups, so
 * state of keys that are never touched again does not leak.
 */
export interface StateTtl {
  readonly ttlMs: number;
  readonly update?: "onCreateAndWrite" | "onReadAndWrite";
  readonly visibility?: "neverReturnExpired" | "returnExpiredIfNotCleanedUp";
}
