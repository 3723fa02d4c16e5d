import { chainProblem } from "./catalog.js";
import { CheckpointDamagedError } from "./errors.js";
import { readKeyedBatches } from "./keyed-reader.js";
import type { CheckpointMetadata, ShardManifest } from "./records.js";
import type { StoreContext } from "./store-context.js";

/**
 * How much `verify` checks:
 * - "records": the metadata parsed (or the checkpoint would not be listed), every operator shard's
 *   manifest is there and their key groups cover 0..maxParallelism-1, and every key group's chain
 *   is whole (its own record is there and every checkpoint it builds on still has its record).
 *   Reads nothing from LevelDB: milliseconds.
 * - "data": also reads every block the checkpoint restores from and checks it is there, passes
 *   its checksum, decodes, and holds the entry counts its records say. Costs about a restore.
 */
export type VerifyLevel = "records" | "data";

/** The damage found in a completed checkpoint; empty when it can be restored. */
export async function verifyCheckpoint(
  ctx: StoreContext,
  metadata: CheckpointMetadata,
  level: VerifyLevel,
): Promise<CheckpointDamagedError[]> {
  const id = metadata.id;
  const damage: CheckpointDamagedError[] = [];
  for (const [uid, info] of Object.entries(metadata.operators)) {
    const manifests: ShardManifest[] = [];
    for (let shard = 0; shard < info.shards; shard++) {
      const manifest = ctx.catalog.manifest(id, uid, shard);
      if (manifest === undefined)
        damage.push(new CheckpointDamagedError(id, `the manifest of shard ${shard} is missing`, uid));
      else manifests.push(manifest);
    }
    if (manifests.length < info.shards) continue;
    const gap = coverageProblem(manifests, info.maxParallelism);
    if (gap !== undefined) {
      damage.push(new CheckpointDamagedError(id, gap, uid));
      continue;
    }
    const problem = firstChainProblem(ctx, id, uid, info.maxParallelism);
    if (problem !== undefined) {
      damage.push(problem);
      continue;
    }
    if (level === "data") {
      try {
        for await (const _ of readKeyedBatches(ctx, id, uid, { start: 0, end: info.maxParallelism - 1 }, true)) {
          // Reading is the check: every block is fetched, checksummed and decoded.
        }
      } catch (error) {
        if ((error as { code?: unknown }).code !== "CHECKPOINT_DAMAGED") throw error;
        damage.push(error as CheckpointDamagedError);
      }
    }
  }
  return damage;
}

/** Whether the shards' key-group ranges cover 0..maxParallelism-1 exactly once. */
export function coverageProblem(manifests: readonly ShardManifest[], maxParallelism: number): string | undefined {
  const ranges = manifests.map((manifest) => manifest.keyGroups).sort((a, b) => a.start - b.start);
  let next = 0;
  for (const range of ranges) {
    if (range.start !== next) return `the shards' key groups leave out or overlap at key group ${next}`;
    next = range.end + 1;
  }
  return next === maxParallelism ? undefined : `the shards' key groups end at ${next - 1}, not ${maxParallelism - 1}`;
}

function firstChainProblem(
  ctx: StoreContext,
  id: number,
  uid: string,
  maxParallelism: number,
): CheckpointDamagedError | undefined {
  for (let keyGroup = 0; keyGroup < maxParallelism; keyGroup++) {
    const chain = ctx.catalog.chain(uid, keyGroup, id);
    const problem =
      chainProblem(chain) ?? (chain.at(-1)?.id !== id ? `checkpoint ${id} has no record of this key group` : undefined);
    if (problem !== undefined) return new CheckpointDamagedError(id, problem, uid, keyGroup);
  }
  return undefined;
}
