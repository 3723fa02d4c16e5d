/** Where a shard runs: which node (process) and which of its threads. */
export interface ShardLocation {
  readonly node: number;
  readonly thread: number;
}

/**
 * Static placement: shard i of every vertex goes to node i mod nodes, then to thread
 * (i div nodes) mod threads. Shards with the same index share a place, so forward edges
 * between them stay on one thread and cost a function call, not a transfer.
 */
export function placeShard(shardIndex: number, nodes: number, threads: number): ShardLocation {
  return { node: shardIndex % nodes, thread: Math.floor(shardIndex / nodes) % threads };
}

export function sameLocation(a: ShardLocation, b: ShardLocation): boolean {
  return a.node === b.node && a.thread === b.thread;
}
