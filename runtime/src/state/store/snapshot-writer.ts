import { encodeStoreRecord } from "../../codec/store-codec.js";
import type { KeyGroupRange } from "../../partition/key-groups.js";
import type { InFlightBatch, KeyedStateEntry, OperatorListState } from "../snapshot.js";
import { BlockBuffer, BlockSizer } from "./block-buffer.js";
import type { Group } from "./catalog.js";
import { CheckpointAbortedError, KeyGroupOutOfRangeError } from "./errors.js";
import { groupKey, manifestKey } from "./keys.js";
import type { ShardManifest } from "./records.js";
import { type BatchOp, type StoreContext, yieldToEventLoop } from "./store-context.js";

/** One shard's snapshot as the writer takes it: a checkpoint's OperatorSnapshot, or a savepoint export's merged view. */
export interface ShardWrite {
  readonly id: number;
  readonly uid: string;
  readonly shardIndex: number;
  readonly mode: "full" | "incremental";
  readonly keyGroups: KeyGroupRange;
  readonly keyed: Iterable<KeyedStateEntry> | AsyncIterable<KeyedStateEntry>;
  readonly operatorState: Readonly<Record<string, OperatorListState>>;
  /** The schema version of each keyed state (absent: none declared, all at version 1). */
  readonly stateVersions?: Readonly<Record<string, number>> | undefined;
  /** Records in flight into the shard at an unaligned checkpoint (head operator only). */
  readonly inFlight?: readonly InFlightBatch[] | undefined;
}

export interface WrittenShard {
  readonly manifest: ShardManifest;
  readonly groups: Group[];
}

/**
 * Writes one shard's keyed entries as blocks per key group (of about `blockBytes`, at most
 * `blockEntries` entries each) and, in the last batch, a record per key group of its range and
 * the shard's manifest. Reads the entries in chunks of `chunkEntries`, writing or yielding to the
 * event loop between chunks, so the shard keeps processing. `stopped` is asked between chunks; when it says so the write
 * throws CheckpointAbortedError (what it wrote is removed with the checkpoint's range).
 *
 * Cost: one msgpackr call per block and one LevelDB batch per chunk, so it grows with the number
 * of entries in the snapshot, which for an incremental snapshot is the number of changes.
 */
export async function writeShard(ctx: StoreContext, write: ShardWrite, stopped: () => boolean): Promise<WrittenShard> {
  const { chunkEntries } = ctx.options;
  const sizer = new BlockSizer(ctx.options.blockEntries, ctx.options.blockBytes);
  const { start, end } = write.keyGroups;
  const buffers: (BlockBuffer | undefined)[] = new Array(end - start + 1);
  let ops: BatchOp[] = [];
  let opsEntries = 0;
  let inChunk = 0;

  const flush = (buffer: BlockBuffer, keyGroup: number): void => {
    opsEntries += buffer.size;
    ops.push(buffer.flush(write, keyGroup, sizer));
  };
  const add = (entry: KeyedStateEntry): void => {
    const keyGroup = entry.keyGroup;
    if (!Number.isInteger(keyGroup) || keyGroup < start || keyGroup > end) {
      throw new KeyGroupOutOfRangeError(write.id, write.uid, keyGroup, `the snapshot's key groups ${start}..${end}`);
    }
    let buffer = buffers[keyGroup - start];
    if (buffer === undefined) buffers[keyGroup - start] = buffer = new BlockBuffer();
    buffer.add(entry);
    if (buffer.size >= sizer.limit) flush(buffer, keyGroup);
  };
  /** Writes what is encoded, or lets the event loop run; then stops if the checkpoint was aborted. */
  const endChunk = async (): Promise<void> => {
    inChunk = 0;
    // Encode every buffered entry before the shard runs again: a snapshot hands over the live
    // objects of keys it did not copy, and once read they are no longer protected from change.
    for (let keyGroup = start; keyGroup <= end; keyGroup++) {
      const buffer = buffers[keyGroup - start];
      if (buffer !== undefined && buffer.size > 0) flush(buffer, keyGroup);
    }
    if (ops.length > 0) {
      const batch = ops;
      ops = [];
      opsEntries = 0;
      await ctx.db.batch(batch);
    } else {
      await yieldToEventLoop();
    }
    if (stopped()) throw new CheckpointAbortedError(write.id);
  };

  if (stopped()) throw new CheckpointAbortedError(write.id);
  if (Symbol.asyncIterator in write.keyed) {
    for await (const entry of write.keyed) {
      add(entry);
      if (++inChunk === chunkEntries) await endChunk();
    }
  } else {
    for (const entry of write.keyed) {
      add(entry);
      if (++inChunk === chunkEntries) await endChunk();
    }
  }
  // The key groups' last blocks, still a chunk of entries per batch.
  for (let keyGroup = start; keyGroup <= end; keyGroup++) {
    const buffer = buffers[keyGroup - start];
    if (buffer !== undefined && buffer.size > 0) flush(buffer, keyGroup);
    if (opsEntries >= chunkEntries) await endChunk();
  }

  const groups: Group[] = [];
  let entries = 0;
  let bytes = 0;
  let blocks = 0;
  for (let keyGroup = start; keyGroup <= end; keyGroup++) {
    const buffer = buffers[keyGroup - start];
    const group: Group = {
      id: write.id,
      uid: write.uid,
      keyGroup,
      kind: 0,
      blocks: buffer?.seq ?? 0,
      entries: buffer?.entries ?? 0,
      bytes: buffer?.bytes ?? 0,
      full: write.mode === "full",
      prev: ctx.catalog.prevOf(write.uid, keyGroup, write.id),
      complete: true,
    };
    groups.push(group);
    ops.push(groupPut(group));
    entries += group.entries;
    bytes += group.bytes;
    blocks += group.blocks;
  }
  const manifest: ShardManifest = {
    uid: write.uid,
    shardIndex: write.shardIndex,
    mode: write.mode,
    keyGroups: { start, end },
    operatorState: write.operatorState,
    stateVersions: write.stateVersions ?? {},
    ...(write.inFlight === undefined ? {} : { inFlight: write.inFlight }),
    entries,
    bytes,
    blocks,
  };
  ops.push({
    type: "put",
    key: manifestKey(write.id, write.uid, write.shardIndex),
    value: encodeStoreRecord(manifest),
  });
  // The manifest goes in the last batch: a shard's snapshot is whole once its manifest is there.
  await ctx.db.batch(ops);
  return { manifest, groups };
}

/** The put of a group record. */
export function groupPut(group: Group): BatchOp {
  const record = {
    blocks: group.blocks,
    entries: group.entries,
    bytes: group.bytes,
    full: group.full,
    prev: group.prev,
    complete: group.complete,
  };
  return {
    type: "put",
    key: groupKey(group.id, group.uid, group.keyGroup, group.kind),
    value: encodeStoreRecord(record),
  };
}
