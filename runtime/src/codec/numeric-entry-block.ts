import { crc32 } from "node:zlib";
import { BLOCK_TAG, encodeBlockStates } from "./store-codec.js";

/** Most bytes one number takes in msgpack (a float64). */
const MAX_NUMBER_BYTES = 9;

/**
 * Writes entry blocks (see encodeEntryBlock) of one state whose keys and values are all numbers
 * straight into a buffer, without building the block's arrays and with one pass over the bytes:
 * the same msgpack msgpackr writes for them (integers in their smallest form, others as float64),
 * framed the same way, so a block decodes with decodeEntryBlock whichever wrote it. It is the
 * checkpoint of a large counter table that this serves: a million entries are about 10 MB.
 */
export class NumericBlockWriter {
  private readonly states: Uint8Array;

  constructor(state: string) {
    this.states = encodeBlockStates([state]);
  }

  /** Most bytes a block of `entries` entries takes, frame included. */
  maxBytes(entries: number): number {
    return 4 + 2 + this.states.byteLength + 3 * 5 + entries * (1 + 2 * MAX_NUMBER_BYTES) + 1;
  }

  /**
   * Writes the block of entries `from..to` of `keys` and `values` at `at` of `target` (which has
   * maxBytes(to - from) bytes free there); returns where it ended.
   */
  write(
    target: Uint8Array,
    view: DataView,
    at: number,
    keys: Float64Array,
    values: Float64Array,
    from: number,
    to: number,
  ): number {
    const count = to - from;
    const bodyAt = at + 4;
    let p = bodyAt;
    target[p++] = 0x96; // [tag, states, stateIndex, keys, values, deleted]
    target[p++] = BLOCK_TAG;
    target.set(this.states, p);
    p += this.states.byteLength;
    p = arrayHeader(target, view, p, count);
    target.fill(0, p, p + count); // every entry is of state 0
    p += count;
    p = arrayHeader(target, view, p, count);
    for (let i = from; i < to; i++) p = number(target, view, p, keys[i] as number);
    p = arrayHeader(target, view, p, count);
    for (let i = from; i < to; i++) p = number(target, view, p, values[i] as number);
    target[p++] = 0x90; // no deletions
    view.setUint32(at, crc32(target.subarray(bodyAt, p)));
    return p;
  }
}

function arrayHeader(target: Uint8Array, view: DataView, p: number, length: number): number {
  if (length < 0x10) {
    target[p] = 0x90 | length;
    return p + 1;
  }
  if (length < 0x10000) {
    target[p] = 0xdc;
    view.setUint16(p + 1, length);
    return p + 3;
  }
  target[p] = 0xdd;
  view.setUint32(p + 1, length);
  return p + 5;
}

/** A number as msgpackr packs it with the store's options (records on: fixints up to 0x3f). */
function number(target: Uint8Array, view: DataView, p: number, value: number): number {
  if (value >>> 0 === value) {
    if (value < 0x40) {
      target[p] = value;
      return p + 1;
    }
    if (value < 0x100) {
      target[p] = 0xcc;
      target[p + 1] = value;
      return p + 2;
    }
    if (value < 0x10000) {
      target[p] = 0xcd;
      view.setUint16(p + 1, value);
      return p + 3;
    }
    target[p] = 0xce;
    view.setUint32(p + 1, value);
    return p + 5;
  }
  if (value >> 0 === value) {
    if (value >= -0x20) {
      target[p] = 0x100 + value;
      return p + 1;
    }
    if (value >= -0x80) {
      target[p] = 0xd0;
      target[p + 1] = value + 0x100;
      return p + 2;
    }
    if (value >= -0x8000) {
      target[p] = 0xd1;
      view.setInt16(p + 1, value);
      return p + 3;
    }
    target[p] = 0xd2;
    view.setInt32(p + 1, value);
    return p + 5;
  }
  target[p] = 0xcb;
  view.setFloat64(p + 1, value);
  return p + 9;
}
