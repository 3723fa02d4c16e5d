import { decodeEntryBlock, type EntryBlock, encodeStoreRecord } from "../../codec/store-codec.js";
import type { KeyGroupRange } from "../../partition/key-groups.js";
import { DELETED, type KeyedStateEntry } from "../snapshot.js";
import { chainProblem, type Group } from "./catalog.js";
import { CheckpointDamagedError } from "./errors.js";
import { blockKey } from "./keys.js";
import { isUnreadable, type StoreContext } from "./store-context.js";

/**
 * Reads the merged view of key groups `range` of operator `uid` at checkpoint `id`, in batches
 * (one per block read): for each key group, its chain's first record (a full snapshot or a base)
 * streamed entry by entry, except entries that a newer record of the chain changed, then the
 * newer records' surviving entries. Deletions hide the key. Memory per key group is the size of
 * the changes since its full record, not the key group's state.
 *
 * The plan (chains per key group) and a LevelDB snapshot are taken together on the first
 * `next()`, so retention or compaction running meanwhile never changes what is read. Every block
 * is checked (present, checksum, decodes, entry counts match its record); a failure throws
 * CheckpointDamagedError naming the checkpoint, operator, key group and what is wrong.
 */
export async function* readKeyedBatches(
  ctx: StoreContext,
  id: number,
  uid: string,
  range: KeyGroupRange,
  expectOwnRecords: boolean,
): AsyncGenerator<KeyedStateEntry[]> {
  const chains: Group[][] = [];
  for (let keyGroup = range.start; keyGroup <= range.end; keyGroup++) {
    const chain = ctx.catalog.chain(uid, keyGroup, id);
    const problem =
      chainProblem(chain) ??
      (expectOwnRecords && chain.at(-1)?.id !== id ? `checkpoint ${id} has no record of this key group` : undefined);
    if (problem !== undefined) throw new CheckpointDamagedError(id, problem, uid, keyGroup);
    chains.push(chain);
  }
  const snapshot = ctx.db.snapshot();
  // The next key group's blocks are read while this one's entries are consumed.
  let next: Promise<EntryBlock[][]> | undefined = fetch(ctx, snapshot, id, uid, range.start, chains[0]);
  try {
    for (let i = 0; i < chains.length; i++) {
      const keyGroup = range.start + i;
      const blocks = await (next as Promise<EntryBlock[][]>);
      next = i + 1 < chains.length ? fetch(ctx, snapshot, id, uid, keyGroup + 1, chains[i + 1]) : undefined;
      yield* mergeKeyGroup(id, uid, keyGroup, chains[i], blocks);
    }
  } finally {
    // A consumer that stops early leaves a read in flight: let it settle before the snapshot closes.
    await next?.catch(() => undefined);
    await snapshot.close();
  }
}

type Snapshot = ReturnType<StoreContext["db"]["snapshot"]>;

/** The decoded blocks of each record of a chain, in chain order. */
async function fetch(
  ctx: StoreContext,
  snapshot: Snapshot,
  id: number,
  uid: string,
  keyGroup: number,
  chain: readonly Group[],
): Promise<EntryBlock[][]> {
  const keys: Buffer[] = [];
  for (const group of chain)
    for (let seq = 0; seq < group.blocks; seq++) keys.push(blockKey(group.id, uid, keyGroup, group.kind, seq));
  if (keys.length === 0) return chain.map(() => []);
  let values: (Buffer | undefined)[];
  try {
    values = await ctx.db.getMany(keys, { snapshot, fillCache: false });
  } catch (error) {
    if (!isUnreadable(error)) throw error;
    throw new CheckpointDamagedError(
      id,
      `LevelDB cannot read its blocks (${(error as Error).message})`,
      uid,
      keyGroup,
      {
        cause: error,
      },
    );
  }
  const out: EntryBlock[][] = [];
  let at = 0;
  for (const group of chain) {
    const blocks: EntryBlock[] = [];
    let entries = 0;
    for (let seq = 0; seq < group.blocks; seq++, at++) {
      const value = values[at];
      const source = `block ${seq} of checkpoint ${group.id}${group.kind === 1 ? "'s compacted base" : ""}`;
      if (value === undefined) throw new CheckpointDamagedError(id, `${source} is missing`, uid, keyGroup);
      try {
        blocks.push(decodeEntryBlock(value));
      } catch (error) {
        throw new CheckpointDamagedError(id, `${source}: ${(error as Error).message}`, uid, keyGroup, { cause: error });
      }
      entries += blocks[blocks.length - 1].keys.length;
    }
    if (entries !== group.entries) {
      const problem = `checkpoint ${group.id} wrote ${group.entries} entries here, its blocks hold ${entries}`;
      throw new CheckpointDamagedError(id, problem, uid, keyGroup);
    }
    out.push(blocks);
  }
  return out;
}

function* mergeKeyGroup(
  id: number,
  uid: string,
  keyGroup: number,
  chain: readonly Group[],
  blocks: EntryBlock[][],
): Generator<KeyedStateEntry[]> {
  if (chain.length === 0) return;
  const changes = new Changes();
  for (let i = 1; i < blocks.length; i++) for (const block of blocks[i]) changes.apply(block);
  for (const block of blocks[0]) {
    const batch: KeyedStateEntry[] = [];
    const deleted = new Set(block.deleted);
    for (let i = 0; i < block.keys.length; i++) {
      const state = block.states[block.stateIndex[i]];
      if (state === undefined) throw new CheckpointDamagedError(id, "a block names an unknown state", uid, keyGroup);
      if (deleted.has(i) || changes.has(state, block.keys[i])) continue;
      batch.push({ keyGroup, state, key: block.keys[i], value: block.values[i] });
    }
    if (batch.length > 0) yield batch;
  }
  const rest = changes.surviving(keyGroup);
  if (rest.length > 0) yield rest;
}

/**
 * The newest value (or deletion) per (state, key) of a chain's newer records. Keys are in Map-key
 * form (primitives), compared as Map keys; an object key, which that form does not produce, is
 * compared by its encoding.
 */
class Changes {
  private readonly byState = new Map<string, Map<unknown, [key: unknown, value: unknown]>>();

  apply(block: EntryBlock): void {
    const deleted = new Set(block.deleted);
    for (let i = 0; i < block.keys.length; i++) {
      const state = block.states[block.stateIndex[i]];
      let byKey = this.byState.get(state);
      if (byKey === undefined) this.byState.set(state, (byKey = new Map()));
      const key = block.keys[i];
      byKey.set(identity(key), [key, deleted.has(i) ? DELETED : block.values[i]]);
    }
  }

  has(state: string, key: unknown): boolean {
    return this.byState.get(state)?.has(identity(key)) ?? false;
  }

  surviving(keyGroup: number): KeyedStateEntry[] {
    const out: KeyedStateEntry[] = [];
    for (const [state, byKey] of this.byState) {
      for (const [key, value] of byKey.values()) if (value !== DELETED) out.push({ keyGroup, state, key, value });
    }
    return out;
  }
}

function identity(key: unknown): unknown {
  return typeof key === "object" && key !== null ? `\u0000${encodeStoreRecord(key).toString("base64")}` : key;
}
