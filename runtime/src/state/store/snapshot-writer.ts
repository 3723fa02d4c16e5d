import { encodeStoreRecord } from "../../codec/store-codec.js";
import type { KeyGroupRange } from "../../partition/key-groups.js";
import type { ColumnarKeyed, InFlightBatch, KeyedStateEntry, OperatorListState } from "../snapshot.js";
import { BlockBuffer, BlockSizer } from "./block-buffer.js";
import type { Group } from "./catalog.js";
import type { EncodedColumns } from "./columns-job.js";
import { BATCH_BYTES, encodedBatches } from "./encode-columns.js";
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
  /** `keyed` split into copied columns and the rest (OperatorSnapshot.columnar); read instead of `keyed` when the store has an encoder. */
  readonly columnar?: ColumnarKeyed | undefined;
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
 * the shard's manifest. Reads the entries in chunks of `chunkEntries`, yielding to the event
 * loop between chunks so the shard keeps processing, and writing a LevelDB batch whenever about
 * BATCH_BYTES are encoded. `stopped` is asked between chunks; when it says so the write throws
 * CheckpointAbortedError (what it wrote is removed with the checkpoint's range).
 *
 * Cost: one msgpackr call per block and one LevelDB batch per megabyte, so it grows with the
 * number of entries in the snapshot, which for an incremental snapshot is the number of changes.
 *
 * State the snapshot copied at its mark (`columnar`) is encoded first, by the store's encoder on
 * its own thread (the calling thread only writes the blocks, in batches of about a megabyte);
 * the rest of the entries follow as above.
 */
export async function writeShard(ctx: StoreContext, write: ShardWrite, stopped: () => boolean): Promise<WrittenShard> {
  const { chunkEntries } = ctx.options;
  const sizer = new BlockSizer(ctx.options.blockEntries, ctx.options.blockBytes);
  const { start, end } = write.keyGroups;
  const buffers: (BlockBuffer | undefined)[] = new Array(end - start + 1);
  let ops: BatchOp[] = [];
  let opsBytes = 0;
  let inChunk = 0;
  /** An entry of this chunk holds an object (encoded before the chunk ends). */
  let liveObjects = false;

  const flush = (buffer: BlockBuffer, keyGroup: number): void => {
    const op = buffer.flush(write, keyGroup, sizer) as BatchOp & { value: Buffer };
    opsBytes += op.value.byteLength;
    ops.push(op);
  };
  const add = (entry: KeyedStateEntry): void => {
    const keyGroup = entry.keyGroup;
    if (!Number.isInteger(keyGroup) || keyGroup < start || keyGroup > end) {
      throw new KeyGroupOutOfRangeError(write.id, write.uid, keyGroup, `the snapshot's key groups ${start}..${end}`);
    }
    let buffer = buffers[keyGroup - start];
    if (buffer === undefined) buffers[keyGroup - start] = buffer = new BlockBuffer();
    buffer.add(entry);
    const value = entry.value;
    if (typeof value === "object" && value !== null) liveObjects = true;
    if (buffer.size >= sizer.limit) flush(buffer, keyGroup);
  };
  /**
   * Writes what is encoded once it is about BATCH_BYTES, else lets the event loop run; then stops
   * if the checkpoint was aborted. (A LevelDB batch per chunk measured up to 12 ms each right
   * after a large checkpoint: an incremental checkpoint of 10,000 keys took 30-70 ms in ten of
   * them, against a few ms in one.)
   */
  const endChunk = async (): Promise<void> => {
    inChunk = 0;
    // Encode every buffered entry before the shard runs again: a snapshot hands over the live
    // objects of keys it did not copy, and once read they are no longer protected from change.
    // Numbers and strings cannot change: their blocks fill up across chunks (a flush of every key
    // group per chunk made blocks of 8 entries of a 10,000-key incremental snapshot).
    if (liveObjects) {
      liveObjects = false;
      for (let keyGroup = start; keyGroup <= end; keyGroup++) {
        const buffer = buffers[keyGroup - start];
        if (buffer !== undefined && buffer.size > 0) flush(buffer, keyGroup);
      }
    }
    if (opsBytes >= BATCH_BYTES) {
      const batch = ops;
      ops = [];
      opsBytes = 0;
      await ctx.db.batch(batch);
    } else {
      await yieldToEventLoop();
    }
    if (stopped()) throw new CheckpointAbortedError(write.id);
  };

  if (stopped()) throw new CheckpointAbortedError(write.id);
  let keyed = write.keyed;
  const encoder = ctx.encoder;
  if (write.columnar !== undefined && encoder !== undefined) {
    keyed = write.columnar.rest;
    const columns = write.columnar.columns;
    if (columns.length > 0) {
      const encoded = await encoder.encode({
        id: write.id,
        uid: write.uid,
        start,
        end,
        blockEntries: ctx.options.blockEntries,
        blockBytes: ctx.options.blockBytes,
        columns,
      });
      if ("outOfRange" in encoded) {
        throw new KeyGroupOutOfRangeError(
          write.id,
          write.uid,
          encoded.outOfRange,
          `the snapshot's key groups ${start}..${end}`,
        );
      }
      if (stopped()) throw new CheckpointAbortedError(write.id);
      for (let keyGroup = start; keyGroup <= end; keyGroup++) {
        const at = 3 * (keyGroup - start);
        const blocks = encoded.groups[at] as number;
        if (blocks === 0) continue;
        let buffer = buffers[keyGroup - start];
        if (buffer === undefined) buffers[keyGroup - start] = buffer = new BlockBuffer();
        // The key group's blocks of the rest of the entries continue its numbering.
        buffer.continueAfter(blocks, encoded.groups[at + 1] as number, encoded.groups[at + 2] as number);
      }
      if (encoded.written !== true) {
        await writeEncoded(ctx, encoded, stopped, write.id);
      }
    }
  }
  if (Symbol.asyncIterator in keyed) {
    for await (const entry of keyed) {
      add(entry);
      if (++inChunk === chunkEntries) await endChunk();
    }
  } else {
    for (const entry of keyed) {
      add(entry);
      if (++inChunk === chunkEntries) await endChunk();
    }
  }
  // The key groups' last blocks (encoded already: no more entries are read).
  for (let keyGroup = start; keyGroup <= end; keyGroup++) {
    const buffer = buffers[keyGroup - start];
    if (buffer !== undefined && buffer.size > 0) flush(buffer, keyGroup);
    if (opsBytes >= BATCH_BYTES) await endChunk();
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

/** Writes blocks the encoder made, in batches of about BATCH_BYTES; stops if the checkpoint was aborted. */
async function writeEncoded(
  ctx: StoreContext,
  encoded: EncodedColumns,
  stopped: () => boolean,
  checkpointId: number,
): Promise<void> {
  for (const batch of encodedBatches(encoded)) {
    await ctx.db.batch(batch);
    if (stopped()) throw new CheckpointAbortedError(checkpointId);
  }
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
