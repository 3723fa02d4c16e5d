import { crc32 } from "node:zlib";
import { Packr } from "msgpackr";
import { CorruptStoreRecordError } from "./errors.js";

/**
 * Encodes what the checkpoint store (state/store/) writes to LevelDB: small records (metadata,
 * manifests) and blocks of keyed state entries. Every value is framed as a 4-byte big-endian
 * CRC-32 of the msgpack body followed by the body, so a flipped, truncated or replaced value is
 * detected before it is decoded (a random byte string often is valid msgpack).
 *
 * The options are part of the checkpoint format (version 1; see runtime/README.md, "Checkpoint
 * store"): records with inline structures (object shapes written once per record, no shared
 * dictionary, so a record decodes on its own and fields may be added or removed between
 * versions), `moreTypes` for Map, Set, typed arrays, Date and bigint. A Map decodes as a Map.
 */
const packr = new Packr({ useRecords: true, moreTypes: true, bundleStrings: false });

/** The first element of a block's msgpack array: what kind of record it is. */
export const BLOCK_TAG = 1;

/** A framed msgpack record: CRC-32 of the body, then the body. A new buffer owned by the caller. */
export function encodeStoreRecord(value: unknown): Buffer {
  return frame(packr.pack(value));
}

/** The value of a framed record; throws CorruptStoreRecordError when the checksum or msgpack fails. */
export function decodeStoreRecord(bytes: Uint8Array): unknown {
  return unpack(bytes);
}

/**
 * A block of keyed state entries of one key group: parallel columns, state names written once.
 * `deleted` lists the indexes whose entry is a deletion (their value is null in `values`).
 */
export interface EntryBlock {
  readonly states: readonly string[];
  readonly stateIndex: readonly number[];
  readonly keys: readonly unknown[];
  readonly values: readonly unknown[];
  readonly deleted: readonly number[];
}

/** Encodes a block in one msgpackr call: object shapes repeated across its values are written once. */
export function encodeEntryBlock(block: EntryBlock): Buffer {
  return frame(packr.pack([BLOCK_TAG, block.states, block.stateIndex, block.keys, block.values, block.deleted]));
}

/** The msgpack of a block's `states` column as encodeEntryBlock writes it (for NumericBlockWriter). */
export function encodeBlockStates(states: readonly string[]): Uint8Array {
  return packr.pack(states);
}

/** Decodes a block; the checks are per block and per column, not per entry. */
export function decodeEntryBlock(bytes: Uint8Array): EntryBlock {
  const decoded = unpack(bytes);
  if (!Array.isArray(decoded) || decoded[0] !== BLOCK_TAG || decoded.length !== 6) {
    throw new CorruptStoreRecordError("a state block of the wrong shape");
  }
  const [, states, stateIndex, keys, values, deleted] = decoded as unknown[];
  if (
    !Array.isArray(states) ||
    !Array.isArray(stateIndex) ||
    !Array.isArray(keys) ||
    !Array.isArray(values) ||
    !Array.isArray(deleted) ||
    stateIndex.length !== keys.length ||
    values.length !== keys.length ||
    !states.every((name) => typeof name === "string")
  ) {
    throw new CorruptStoreRecordError("a state block with malformed columns");
  }
  return { states, stateIndex, keys, values, deleted };
}

function frame(body: Uint8Array): Buffer {
  const framed = Buffer.allocUnsafe(body.byteLength + 4);
  framed.writeUInt32BE(crc32(body), 0);
  framed.set(body, 4);
  return framed;
}

function unframe(bytes: Uint8Array): Uint8Array {
  if (bytes.byteLength < 5) throw new CorruptStoreRecordError(`a store record of ${bytes.byteLength} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const body = bytes.subarray(4);
  if (view.getUint32(0) !== crc32(body)) {
    throw new CorruptStoreRecordError(`a store record of ${bytes.byteLength} bytes fails its checksum`);
  }
  return body;
}

/** A body that passed its checksum but does not decode (written by a newer format, say) is still corrupt. */
function unpack(bytes: Uint8Array): unknown {
  const body = unframe(bytes);
  try {
    return packr.unpack(body);
  } catch (error) {
    throw new CorruptStoreRecordError(`a store record of ${bytes.byteLength} bytes does not decode`, { cause: error });
  }
}
