import { encodeEntryBlock, encodeStoreRecord } from "../../codec/store-codec.js";
import type { KeyGroupRange } from "../../partition/key-groups.js";
import { DELETED, type KeyedStateEntry, type OperatorListState } from "../snapshot.js";
import type { Group } from "./catalog.js";
import { CheckpointAbortedError, KeyGroupOutOfRangeError } from "./errors.js";
import { blockKey, type GroupKind, groupKey, manifestKey } from "./keys.js";
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
}

export interface WrittenShard {
  readonly manifest: ShardManifest;
  readonly groups: Group[];
}

/**
 * Writes one shard's keyed entries as blocks per key group (at most `blockEntries` entries each)
 * and, in the last batch, a record per key group of its range and the shard's manifest. Reads the
 * entries in chunks of `chunkEntries`, writing or yielding to the event loop between chunks, so
 * the shard keeps processing. `stopped` is asked between chunks; when it says so the write
 * throws CheckpointAbortedError (what it wrote is removed with the checkpoint's range).
 *
 * Cost: one msgpackr call per block and one LevelDB batch per chunk, so it grows with the number
 * of entries in the snapshot, which for an incremental snapshot is the number of changes.
 */
export async function writeShard(ctx: StoreContext, write: ShardWrite, stopped: () => boolean): Promise<WrittenShard> {
  const { blockEntries, chunkEntries } = ctx.options;
  const { start, end } = write.keyGroups;
  const buffers: (BlockBuffer | undefined)[] = new Array(end - start + 1);
  let ops: BatchOp[] = [];
  let inChunk = 0;

  const add = (entry: KeyedStateEntry): void => {
    const keyGroup = entry.keyGroup;
    if (!Number.isInteger(keyGroup) || keyGroup < start || keyGroup > end) {
      throw new KeyGroupOutOfRangeError(write.id, write.uid, keyGroup, `the snapshot's key groups ${start}..${end}`);
    }
    let buffer = buffers[keyGroup - start];
    if (buffer === undefined) buffers[keyGroup - start] = buffer = new BlockBuffer();
    buffer.add(entry);
    if (buffer.size >= blockEntries) ops.push(buffer.flush(write, keyGroup));
  };
  const endChunk = async (): Promise<void> => {
    inChunk = 0;
    if (ops.length > 0) {
      const batch = ops;
      ops = [];
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

  const groups: Group[] = [];
  let entries = 0;
  let bytes = 0;
  let blocks = 0;
  for (let keyGroup = start; keyGroup <= end; keyGroup++) {
    const buffer = buffers[keyGroup - start];
    if (buffer !== undefined && buffer.size > 0) ops.push(buffer.flush(write, keyGroup));
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
    entries,
    bytes,
    blocks,
  };
  ops.push({
    type: "put",
    key: manifestKey(write.id, write.uid, write.shardIndex),
    value: encodeStoreRecord(manifest),
  });
  if (stopped()) throw new CheckpointAbortedError(write.id);
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

/**
 * Entries of one key group waiting to become a block: columns, and state names numbered per
 * block so a block decodes on its own.
 */
export class BlockBuffer {
  seq = 0;
  entries = 0;
  bytes = 0;
  private states: string[] = [];
  private stateIds = new Map<string, number>();
  private stateIndex: number[] = [];
  private keys: unknown[] = [];
  private values: unknown[] = [];
  private deleted: number[] = [];

  get size(): number {
    return this.keys.length;
  }

  add(entry: KeyedStateEntry): void {
    this.push(entry.state, entry.key, entry.value);
  }

  push(state: string, key: unknown, value: unknown): void {
    let stateId = this.stateIds.get(state);
    if (stateId === undefined) {
      stateId = this.states.length;
      this.states.push(state);
      this.stateIds.set(state, stateId);
    }
    this.stateIndex.push(stateId);
    this.keys.push(key);
    if (value === DELETED) {
      this.deleted.push(this.values.length);
      this.values.push(null);
    } else {
      this.values.push(value);
    }
  }

  /** The put of this buffer as block `seq` of its key group; the buffer starts the next block. */
  flush(at: { id: number; uid: string }, keyGroup: number, kind: GroupKind = 0): BatchOp {
    const value = encodeEntryBlock({
      states: this.states,
      stateIndex: this.stateIndex,
      keys: this.keys,
      values: this.values,
      deleted: this.deleted,
    });
    const op: BatchOp = { type: "put", key: blockKey(at.id, at.uid, keyGroup, kind, this.seq), value };
    this.seq++;
    this.entries += this.keys.length;
    this.bytes += value.byteLength;
    this.states = [];
    this.stateIds = new Map();
    this.stateIndex = [];
    this.keys = [];
    this.values = [];
    this.deleted = [];
    return op;
  }
}
