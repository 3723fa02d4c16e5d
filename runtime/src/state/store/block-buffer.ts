import { encodeEntryBlock } from "../../codec/store-codec.js";
import { DELETED, type KeyedStateEntry } from "../snapshot.js";
import { blockKey, type GroupKind } from "./keys.js";
import type { BatchOp } from "./store-context.js";

/** Entries in the first block a write encodes, before it knows how large its entries are. */
const FIRST_BLOCK_ENTRIES = 64;

/**
 * How many entries the next block takes: blocks aim at `targetBytes` (so a state of large values,
 * a window's contents say, does not make blocks of hundreds of megabytes) and hold at most
 * `maxEntries`. The first block is small and measures the entry size for the rest of the write.
 */
export class BlockSizer {
  private entries = 0;
  private bytes = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly targetBytes: number,
  ) {}

  get limit(): number {
    if (this.entries === 0) return Math.min(FIRST_BLOCK_ENTRIES, this.maxEntries);
    return Math.max(1, Math.min(this.maxEntries, Math.floor((this.targetBytes * this.entries) / this.bytes)));
  }

  learn(entries: number, bytes: number): void {
    this.entries += entries;
    this.bytes += bytes;
  }
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

  /** Counts `blocks` blocks of `entries` entries and `bytes` bytes written for this key group elsewhere (the block encoder): the next block follows them. */
  continueAfter(blocks: number, entries: number, bytes: number): void {
    this.seq += blocks;
    this.entries += entries;
    this.bytes += bytes;
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
  flush(at: { id: number; uid: string }, keyGroup: number, sizer: BlockSizer, kind: GroupKind = 0): BatchOp {
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
    sizer.learn(this.keys.length, value.byteLength);
    this.states = [];
    this.stateIds = new Map();
    this.stateIndex = [];
    this.keys = [];
    this.values = [];
    this.deleted = [];
    return op;
  }
}
