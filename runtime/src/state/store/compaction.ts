import { BlockBuffer, BlockSizer } from "./block-buffer.js";
import type { Group } from "./catalog.js";
import type { CheckpointDamagedError } from "./errors.js";
import { readKeyedBatches } from "./keyed-reader.js";
import { blockRange, groupKey, KIND_BASE } from "./keys.js";
import { retainedIds } from "./retention.js";
import { groupPut } from "./snapshot-writer.js";
import { type BatchOp, type StoreContext, yieldToEventLoop } from "./store-context.js";

/**
 * Keeps restores short when operators write only incremental snapshots. For each key group of
 * the oldest retained checkpoint r, when its chain's incremental records hold at least
 * `compactionRatio` times the bytes of its first record, or the chain is longer than
 * `maxChainLength`, the store writes a base: the merged view of that key group at r, as blocks of
 * kind 1 under r's range. Chains of r and newer checkpoints then start at the base, and the next
 * retention pass deletes the records before it. A base's record is written first with
 * `complete: false` and marked complete in its last batch; an incomplete base is never read and
 * is removed at the next open.
 *
 * Cost: one key group's state per compaction, paid once its changes reach the ratio, so
 * amortized over the checkpoints it is proportional to their changes (at ratio 1, each byte
 * changed is rewritten about once more). Returns the damage met (a key group it could not read).
 */
export async function compact(ctx: StoreContext, leased: Iterable<number>, closing: () => boolean): Promise<Error[]> {
  const { catalog, options } = ctx;
  const retained = retainedIds(catalog, options.retain, leased);
  const checkpoints = [...retained].filter((id) => catalog.metadata.get(id)?.kind === "checkpoint");
  if (checkpoints.length === 0) return [];
  const target = Math.min(...checkpoints);
  const metadata = catalog.metadata.get(target);
  if (metadata === undefined) return [];
  const damage: Error[] = [];
  for (const uid of Object.keys(metadata.operators)) {
    for (const keyGroup of catalog.keyGroupsOf(uid)) {
      if (closing()) return damage;
      const chain = catalog.chain(uid, keyGroup, target);
      if (!needsCompaction(chain, options.compactionRatio, options.maxChainLength)) continue;
      try {
        await writeBase(ctx, target, uid, keyGroup);
      } catch (error) {
        if ((error as { code?: unknown }).code !== "CHECKPOINT_DAMAGED") throw error;
        damage.push(error as CheckpointDamagedError);
      }
    }
  }
  return damage;
}

function needsCompaction(chain: readonly Group[], ratio: number, maxChainLength: number): boolean {
  if (chain.length < 2) return false;
  if (chain.length > maxChainLength) return true;
  let changed = 0;
  for (let i = 1; i < chain.length; i++) changed += chain[i].bytes;
  return changed >= ratio * chain[0].bytes;
}

async function writeBase(ctx: StoreContext, id: number, uid: string, keyGroup: number): Promise<void> {
  const started: Group = {
    id,
    uid,
    keyGroup,
    kind: KIND_BASE,
    blocks: 0,
    entries: 0,
    bytes: 0,
    full: true,
    prev: -1,
    complete: false,
  };
  await ctx.db.batch([groupPut(started)]);
  const buffer = new BlockBuffer();
  const sizer = new BlockSizer(ctx.options.blockEntries, ctx.options.blockBytes);
  let ops: BatchOp[] = [];
  try {
    for await (const batch of readKeyedBatches(ctx, id, uid, { start: keyGroup, end: keyGroup }, false)) {
      for (const entry of batch) {
        buffer.push(entry.state, entry.key, entry.value);
        if (buffer.size >= sizer.limit) ops.push(buffer.flush({ id, uid }, keyGroup, sizer, KIND_BASE));
      }
      if (ops.length > 0) {
        await ctx.db.batch(ops);
        ops = [];
      } else {
        await yieldToEventLoop();
      }
    }
  } catch (error) {
    const [gte, lt] = blockRange(id, uid, keyGroup, KIND_BASE);
    await ctx.db.clear({ gte, lt });
    await ctx.db.del(groupKey(id, uid, keyGroup, KIND_BASE));
    throw error;
  }
  if (buffer.size > 0) ops.push(buffer.flush({ id, uid }, keyGroup, sizer, KIND_BASE));
  const base: Group = { ...started, blocks: buffer.seq, entries: buffer.entries, bytes: buffer.bytes, complete: true };
  ops.push(groupPut(base));
  await ctx.db.batch(ops);
  ctx.catalog.addGroup(base);
}
