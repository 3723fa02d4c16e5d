import type { Key } from "@keyflow/functions-sdk";
import { hashKey } from "./key-hash.js";

/**
 * Key -> key group -> shard, a pure function of (key, maxParallelism, parallelism) shared by every
 * part of the runtime: partitioners route with it, state is grouped by it, rescaling moves whole
 * key groups. Same formulas as Flink's KeyGroupRangeAssignment.
 */
export function keyGroupOf(key: Key, maxParallelism: number): number {
  return hashKey(key) % maxParallelism;
}

/** The shard that owns a key group: shards own contiguous key-group ranges. */
export function shardOfKeyGroup(keyGroup: number, maxParallelism: number, parallelism: number): number {
  return Math.floor((keyGroup * parallelism) / maxParallelism);
}

export function shardOfKey(key: Key, maxParallelism: number, parallelism: number): number {
  return shardOfKeyGroup(keyGroupOf(key, maxParallelism), maxParallelism, parallelism);
}

/** The key groups a shard owns: [start, end] inclusive. */
export interface KeyGroupRange {
  readonly start: number;
  readonly end: number;
}

export function keyGroupRangeOf(shardIndex: number, maxParallelism: number, parallelism: number): KeyGroupRange {
  const start = Math.floor((shardIndex * maxParallelism + parallelism - 1) / parallelism);
  const end = Math.floor(((shardIndex + 1) * maxParallelism - 1) / parallelism);
  return { start, end };
}
