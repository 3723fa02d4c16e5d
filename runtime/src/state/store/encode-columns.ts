import { NumericBlockWriter } from "../../codec/numeric-entry-block.js";
import { keyOfMapKey } from "../../partition/canonical-key.js";
import { keyGroupOf } from "../../partition/key-groups.js";
import type { KeyedColumns } from "../snapshot.js";
import { BlockBuffer, BlockSizer } from "./block-buffer.js";
import type { ColumnsJob, EncodedColumns } from "./columns-job.js";
import { blockKey } from "./keys.js";
import type { BatchOp } from "./store-context.js";

/**
 * Bytes of encoded blocks per LevelDB batch. Measured on this machine writing 10 MB of 10 KB
 * blocks: 1 MB batches took 3 ms of the calling thread and 25 ms in all; 4 MB batches 55-85 ms
 * and 110-130 ms (each fills most of LevelDB's 4 MB write buffer); 100 KB batches 10 ms and 30-60 ms.
 */
export const BATCH_BYTES = 1 << 20;

/** The puts of encoded blocks, in batches of about BATCH_BYTES (views into `data`, no copies). */
export function* encodedBatches(encoded: EncodedColumns): Generator<BatchOp[]> {
  const { data, ops: table } = encoded;
  const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let ops: BatchOp[] = [];
  let bytes = 0;
  for (let at = 0; at < table.length; at += 4) {
    const keyAt = table[at] as number;
    const valueAt = table[at + 2] as number;
    const key = buffer.subarray(keyAt, keyAt + (table[at + 1] as number));
    const value = buffer.subarray(valueAt, valueAt + (table[at + 3] as number));
    ops.push({ type: "put", key, value });
    bytes += key.byteLength + value.byteLength;
    if (bytes >= BATCH_BYTES) {
      yield ops;
      ops = [];
      bytes = 0;
    }
  }
  if (ops.length > 0) yield ops;
}

/** The buffers of a job's Float64Array columns: moved to the encoder's thread and back, never cloned. */
export function columnBuffers(columns: readonly KeyedColumns[]): Set<ArrayBufferLike> {
  const buffers = new Set<ArrayBufferLike>();
  for (const { keys, values } of columns) {
    for (const column of [keys, values]) if (column instanceof Float64Array) buffers.add(column.buffer);
  }
  return buffers;
}

/** A key whose key group is outside the shard's range. */
export class ColumnsOutOfRange {
  constructor(readonly keyGroup: number) {}
}

/**
 * Encodes the columns as blocks per key group in the store's block format (decodeEntryBlock
 * reads them like any other block), numbering each key group's blocks on from the previous
 * column's. Pure and synchronous: it runs on the block encoder's thread.
 *
 * A state of numbers keyed by numbers is sorted by key group (a counting sort) and written
 * straight into the output (NumericBlockWriter): no arrays per block and almost no garbage, a
 * third of the time of the general path on a million counters. Other columns go through
 * BlockBuffer, as the snapshot writer encodes entries.
 */
export function encodeColumns(job: ColumnsJob): EncodedColumns | ColumnsOutOfRange {
  const output = new BlockOutput(job);
  for (const columns of job.columns) {
    const failed =
      columns.keys instanceof Float64Array && columns.values instanceof Float64Array
        ? encodeNumeric(job, output, columns, columns.keys, columns.values)
        : encodeAny(job, output, columns);
    if (failed !== undefined) return failed;
  }
  return output.finish();
}

function encodeNumeric(
  job: ColumnsJob,
  output: BlockOutput,
  columns: KeyedColumns,
  keys: Float64Array,
  values: Float64Array,
): ColumnsOutOfRange | undefined {
  const { start, end } = job;
  const groups = end - start + 1;
  const size = keys.length;
  const { keyGroups, sortedKeys, sortedValues } = scratchFor(size);
  const firstOf = new Int32Array(groups + 1);
  for (let i = 0; i < size; i++) {
    const keyGroup = keyGroupOf(keys[i] as number, columns.maxParallelism);
    if (keyGroup < start || keyGroup > end) return new ColumnsOutOfRange(keyGroup);
    keyGroups[i] = keyGroup - start;
    (firstOf[keyGroup - start + 1] as number)++;
  }
  for (let g = 0; g < groups; g++) (firstOf[g + 1] as number) += firstOf[g] as number;
  // Sorted copies rather than an index: writing the blocks then reads memory in order (reading
  // through an index measured 130 ns an entry on a million, mostly cache misses).
  const next = firstOf.slice(0, groups);
  for (let i = 0; i < size; i++) {
    const at = (next[keyGroups[i] as number] as number)++;
    sortedKeys[at] = keys[i] as number;
    sortedValues[at] = values[i] as number;
  }

  const writer = new NumericBlockWriter(columns.state);
  // Numbers take at most 19 bytes an entry: blocks of blockEntries stay near or under blockBytes.
  const perBlock = Math.max(1, Math.min(job.blockEntries, Math.floor(job.blockBytes / 19)));
  output.reserve(writer.maxBytes(size) + Math.ceil(size / perBlock) * (64 + writer.maxBytes(0)) + groups * 64);
  for (let g = 0; g < groups; g++) {
    const last = firstOf[g + 1] as number;
    for (let from = firstOf[g] as number; from < last; from += perBlock) {
      const to = Math.min(last, from + perBlock);
      output.block(start + g, to - from, writer.maxBytes(to - from), (target, view, at) =>
        writer.write(target, view, at, sortedKeys, sortedValues, from, to),
      );
    }
  }
  return undefined;
}

/**
 * encodeNumeric's arrays, kept from one job to the next on this thread: fresh ones would cost
 * their page faults at every checkpoint (a fresh Float64Array of a million took 25 ms to fill here,
 * a reused one 4).
 */
let scratch: { keyGroups: Uint16Array; sortedKeys: Float64Array; sortedValues: Float64Array } | undefined;

function scratchFor(size: number): NonNullable<typeof scratch> {
  if (scratch === undefined || scratch.keyGroups.length < size) {
    const capacity = Math.ceil(size * 1.25);
    scratch = {
      keyGroups: new Uint16Array(capacity),
      sortedKeys: new Float64Array(capacity),
      sortedValues: new Float64Array(capacity),
    };
  }
  return scratch;
}

function encodeAny(job: ColumnsJob, output: BlockOutput, columns: KeyedColumns): ColumnsOutOfRange | undefined {
  const { start, end } = job;
  const { keys, values, state, maxParallelism } = columns;
  const sizer = new BlockSizer(job.blockEntries, job.blockBytes);
  const buffers: (BlockBuffer | undefined)[] = new Array(end - start + 1);
  const flush = (buffer: BlockBuffer, keyGroup: number): void => {
    const entries = buffer.size;
    const { key, value } = buffer.flush(job, keyGroup, sizer) as { key: Buffer; value: Buffer };
    output.encoded(keyGroup, entries, key, value);
  };
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    const keyGroup = keyGroupOf(keyOfMapKey(key), maxParallelism);
    if (keyGroup < start || keyGroup > end) return new ColumnsOutOfRange(keyGroup);
    let buffer = buffers[keyGroup - start];
    if (buffer === undefined) {
      buffers[keyGroup - start] = buffer = new BlockBuffer();
      buffer.continueAfter(output.blocksOf(keyGroup), 0, 0);
    }
    buffer.push(state, key, values[i]);
    if (buffer.size >= sizer.limit) flush(buffer, keyGroup);
  }
  for (let keyGroup = start; keyGroup <= end; keyGroup++) {
    const buffer = buffers[keyGroup - start];
    if (buffer !== undefined && buffer.size > 0) flush(buffer, keyGroup);
  }
  return undefined;
}

/**
 * The blocks of a job as they are made: keys and values back to back in one growing buffer (its
 * own ArrayBuffer, not Node's pool, so it can be transferred), the op table, and per key group
 * the blocks, entries and bytes so far.
 */
class BlockOutput {
  private data: Uint8Array;
  private view: DataView;
  private length = 0;
  private ops: number[] = [];
  private readonly groups: Int32Array;

  constructor(private readonly job: ColumnsJob) {
    this.groups = new Int32Array(3 * (job.end - job.start + 1));
    // The previous job's output, which the writer has written and handed back.
    this.data = new Uint8Array(job.spare ?? new ArrayBuffer(1 << 20));
    this.view = new DataView(this.data.buffer);
  }

  blocksOf(keyGroup: number): number {
    return this.groups[3 * (keyGroup - this.job.start)] as number;
  }

  /** A block written in place: `write` fills at most `maxBytes` from `at` and returns where it ended. */
  block(
    keyGroup: number,
    entries: number,
    maxBytes: number,
    write: (target: Uint8Array, view: DataView, at: number) => number,
  ): void {
    const key = blockKey(this.job.id, this.job.uid, keyGroup, 0, this.blocksOf(keyGroup));
    this.reserve(key.byteLength + maxBytes);
    const keyAt = this.length;
    this.data.set(key, keyAt);
    const valueAt = keyAt + key.byteLength;
    const end = write(this.data, this.view, valueAt);
    this.length = end;
    this.count(keyGroup, entries, end - valueAt);
    this.ops.push(keyAt, key.byteLength, valueAt, end - valueAt);
  }

  /** A block encoded elsewhere (BlockBuffer), whose key already holds its number. */
  encoded(keyGroup: number, entries: number, key: Uint8Array, value: Uint8Array): void {
    this.reserve(key.byteLength + value.byteLength);
    const keyAt = this.length;
    this.data.set(key, keyAt);
    this.data.set(value, keyAt + key.byteLength);
    this.length += key.byteLength + value.byteLength;
    this.count(keyGroup, entries, value.byteLength);
    this.ops.push(keyAt, key.byteLength, keyAt + key.byteLength, value.byteLength);
  }

  finish(): EncodedColumns {
    return { data: this.data.subarray(0, this.length), ops: Int32Array.from(this.ops), groups: this.groups };
  }

  private count(keyGroup: number, entries: number, bytes: number): void {
    const at = 3 * (keyGroup - this.job.start);
    (this.groups[at] as number)++;
    (this.groups[at + 1] as number) += entries;
    (this.groups[at + 2] as number) += bytes;
  }

  /** Room for `bytes` more bytes. */
  reserve(bytes: number): void {
    if (this.length + bytes <= this.data.byteLength) return;
    let capacity = this.data.byteLength * 2;
    while (capacity < this.length + bytes) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.data.subarray(0, this.length));
    this.data = grown;
    this.view = new DataView(grown.buffer);
  }
}
