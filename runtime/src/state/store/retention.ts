import type { Catalog, Group } from "./catalog.js";
import { blockKey, checkpointEnd, checkpointStart, groupKey, manifestKey, metadataKey } from "./keys.js";
import type { BatchOp, StoreContext } from "./store-context.js";

const OPS_PER_BATCH = 1000;

/**
 * The checkpoints retention keeps: the newest `retain` of kind "checkpoint", every savepoint, and
 * any checkpoint a reader holds (an export or describe in progress).
 */
export function retainedIds(catalog: Catalog, retain: number, leased: Iterable<number>): Set<number> {
  const kept = new Set<number>(leased);
  let checkpoints = 0;
  for (const id of catalog.completedIds()) {
    const metadata = catalog.metadata.get(id);
    if (metadata?.kind === "savepoint") kept.add(id);
    else if (checkpoints++ < retain) kept.add(id);
  }
  return kept;
}

/** The key group records some retained checkpoint reads: the union of their chains. */
export function neededGroups(catalog: Catalog, retained: Iterable<number>): Set<Group> {
  const needed = new Set<Group>();
  for (const id of retained) {
    const metadata = catalog.metadata.get(id);
    if (metadata === undefined) continue;
    for (const uid of Object.keys(metadata.operators)) {
      for (const keyGroup of catalog.keyGroupsOf(uid))
        for (const group of catalog.chain(uid, keyGroup, id)) needed.add(group);
    }
  }
  return needed;
}

/**
 * One retention pass, from the catalog alone (no scan of LevelDB):
 * 1. checkpoints no longer retained lose their metadata and manifests (one batch), so from then
 *    on they cannot be restored;
 * 2. key group records (and their blocks) that no retained checkpoint's chain reads are deleted;
 *    a record shadowed by a newer full record or base <= the oldest retained checkpoint is among
 *    them, and so is every record of a checkpoint that is no longer retained and that no newer
 *    incremental builds on;
 * 3. a completed id left with no records loses its settled record (its whole range is cleared).
 * Records of checkpoints still being written are never touched. Cost: the number of records and
 * blocks deleted, plus a walk of the catalog.
 */
export async function collectGarbage(ctx: StoreContext, leased: readonly number[]): Promise<void> {
  const { catalog, db } = ctx;
  const retained = retainedIds(catalog, ctx.options.retain, leased);
  const dropped = [...catalog.metadata.keys()].filter((id) => !retained.has(id));
  if (dropped.length > 0) {
    const ops: BatchOp[] = [];
    for (const id of dropped) {
      ops.push({ type: "del", key: metadataKey(id) });
      for (const manifest of catalog.manifests.get(id)?.values() ?? []) {
        ops.push({ type: "del", key: manifestKey(id, manifest.uid, manifest.shardIndex) });
      }
    }
    await db.batch(ops);
    for (const id of dropped) {
      catalog.metadata.delete(id);
      catalog.manifests.delete(id);
    }
  }

  // Decided in one synchronous step, from the catalog as it is now: a checkpoint that completed
  // while the batch above was written is retained and its records needed. What is unneeded now
  // stays so, since a checkpoint completing later builds only on what the newest retained one reads.
  const retainedNow = retainedIds(catalog, ctx.options.retain, leased);
  const needed = neededGroups(catalog, retainedNow);
  const unneeded = [...catalog.allGroups()].filter(
    (group) => catalog.settled.has(group.id) && group.complete && !needed.has(group),
  );
  await deleteGroups(ctx, unneeded);

  const holding = new Set<number>();
  for (const group of catalog.allGroups()) holding.add(group.id);
  for (const id of [...catalog.settled]) {
    if (retainedNow.has(id) || catalog.metadata.has(id) || holding.has(id)) continue;
    await db.clear({ gte: checkpointStart(id), lt: checkpointEnd(id) });
    catalog.forget(id);
  }
}

/**
 * Deletes key group records and their blocks, a record's blocks in the batch of its record or
 * before it, so a crash leaves at worst a record whose blocks are gone: one no retained
 * checkpoint reads, deleted again by the next pass.
 */
export async function deleteGroups(ctx: StoreContext, groups: readonly Group[]): Promise<void> {
  let ops: BatchOp[] = [];
  let done: Group[] = [];
  const flush = async () => {
    await ctx.db.batch(ops);
    for (const group of done) ctx.catalog.removeGroup(group);
    ops = [];
    done = [];
  };
  for (const group of groups) {
    for (let seq = 0; seq < group.blocks; seq++) {
      ops.push({ type: "del", key: blockKey(group.id, group.uid, group.keyGroup, group.kind, seq) });
      if (ops.length >= OPS_PER_BATCH) await flush();
    }
    ops.push({ type: "del", key: groupKey(group.id, group.uid, group.keyGroup, group.kind) });
    done.push(group);
    if (ops.length >= OPS_PER_BATCH) await flush();
  }
  if (ops.length > 0) await flush();
}
