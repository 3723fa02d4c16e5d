import { CheckpointDamagedError } from "./errors.js";
import type { ShardManifest } from "./records.js";

/**
 * The operator list state shard `shardIndex` of `parallelism` gets back from a checkpoint whose
 * shards wrote `manifests` (in shard order):
 * - "union" lists: every old shard's items, concatenated in shard order, to every new shard;
 * - "split" lists: at the same parallelism each shard gets its own items back; at another
 *   parallelism the old shards' items are concatenated in shard order and dealt in contiguous
 *   slices, shard i getting items [floor(i*n/p), floor((i+1)*n/p)), so sizes differ by at most one
 *   and every item goes to exactly one shard.
 * A name that one shard wrote as "split" and another as "union" is reported as damage.
 */
export function distributeOperatorState(
  id: number,
  uid: string,
  manifests: readonly ShardManifest[],
  shardIndex: number,
  parallelism: number,
): Record<string, unknown[]> {
  const lists = new Map<string, { distribution: "split" | "union"; perShard: (readonly unknown[])[] }>();
  manifests.forEach((manifest, shard) => {
    for (const [name, list] of Object.entries(manifest.operatorState)) {
      let entry = lists.get(name);
      if (entry === undefined) {
        entry = { distribution: list.distribution, perShard: manifests.map(() => []) };
        lists.set(name, entry);
      } else if (entry.distribution !== list.distribution) {
        const problem = `list state "${name}" is "${entry.distribution}" in one shard and "${list.distribution}" in shard ${shard}`;
        throw new CheckpointDamagedError(id, problem, uid);
      }
      entry.perShard[shard] = list.items;
    }
  });
  const out: Record<string, unknown[]> = {};
  for (const [name, { distribution, perShard }] of lists) {
    if (distribution === "split" && parallelism === manifests.length) {
      out[name] = [...perShard[shardIndex]];
      continue;
    }
    const all = perShard.flat();
    if (distribution === "union") {
      out[name] = all;
    } else {
      const n = all.length;
      out[name] = all.slice(
        Math.floor((shardIndex * n) / parallelism),
        Math.floor(((shardIndex + 1) * n) / parallelism),
      );
    }
  }
  return out;
}
