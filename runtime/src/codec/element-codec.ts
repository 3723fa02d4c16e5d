import { Packr } from "msgpackr";
import type { StreamElement } from "../element/stream-element.js";
import { fromColumns, toColumns } from "./columnar-batch.js";
import { CorruptElementError } from "./errors.js";

/**
 * Encodes stream elements for channels that cross a thread or a process. The only user of
 * msgpackr in the runtime. A record batch is encoded as [0, values, timestamps?] so the codec
 * can use msgpackr's record structures for the values (repeated object shapes are written once).
 *
 * Structures are not shared between encoder and decoder (`useRecords` with inline structure
 * definitions, the default for a Packr without `structures`), so a channel needs no handshake
 * and a receiver can decode any batch on its own.
 */
const packr = new Packr({ useRecords: true, moreTypes: true, bundleStrings: false });

const TAG_RECORDS = 0;
const TAG_WATERMARK = 1;
const TAG_BARRIER = 2;
const TAG_END = 3;
const TAG_COLUMNS = 4;
const TAG_STATUS = 5;

/**
 * Encodes an element into msgpackr's reusable buffer: the returned view is valid only until the
 * next encode. Use `encodeElementCopy` for bytes that outlive that (transfers, publishes).
 */
export function encodeElement(element: StreamElement): Uint8Array {
  switch (element.kind) {
    case "records": {
      const timestamps = element.timestamps === undefined ? undefined : Float64Array.from(element.timestamps);
      const columns = toColumns(element.values);
      if (columns !== undefined) {
        return packr.pack([TAG_COLUMNS, columns.fields, columns.columns, columns.length, timestamps]);
      }
      return packr.pack([TAG_RECORDS, element.values, timestamps]);
    }
    case "watermark":
      return packr.pack([TAG_WATERMARK, element.timestamp]);
    case "barrier":
      // Kind: 1 savepoint, 2 unaligned checkpoint; an aligned checkpoint's barrier has none.
      return element.savepoint === true
        ? packr.pack([TAG_BARRIER, element.checkpointId, element.timestamp, 1])
        : element.unaligned === true
          ? packr.pack([TAG_BARRIER, element.checkpointId, element.timestamp, 2])
          : packr.pack([TAG_BARRIER, element.checkpointId, element.timestamp]);
    case "status":
      return packr.pack([TAG_STATUS, element.idle]);
    case "end":
      return packr.pack([TAG_END]);
  }
}

/**
 * Decodes one element. Bytes that are not an element — not msgpack, or msgpack of another shape —
 * throw CorruptElementError (with msgpackr's error as the cause), never a bare decoder error and
 * never a half-formed element. The checks are per batch and per column, not per record.
 */
export function decodeElement(bytes: Uint8Array): StreamElement {
  let decoded: unknown;
  try {
    decoded = packr.unpack(bytes);
  } catch (error) {
    throw new CorruptElementError(`${bytes.byteLength} bytes are not a msgpack element`, { cause: error });
  }
  if (!Array.isArray(decoded)) throw new CorruptElementError(`expected an element array, got ${typeof decoded}`);
  switch (decoded[0]) {
    case TAG_RECORDS: {
      const values = decoded[1];
      if (!Array.isArray(values)) throw new CorruptElementError("a record batch without an array of values");
      return { kind: "records", values, timestamps: timestampsOf(decoded[2], values.length) };
    }
    case TAG_COLUMNS: {
      const [, fields, columns, length] = decoded;
      if (!isColumnar(fields, columns, length)) throw new CorruptElementError("a columnar batch of the wrong shape");
      const values = fromColumns({ fields, columns, length });
      return { kind: "records", values, timestamps: timestampsOf(decoded[4], length) };
    }
    case TAG_WATERMARK:
      if (typeof decoded[1] !== "number") throw new CorruptElementError("a watermark without a numeric timestamp");
      return { kind: "watermark", timestamp: decoded[1] };
    case TAG_BARRIER:
      if (typeof decoded[1] !== "number" || typeof decoded[2] !== "number") {
        throw new CorruptElementError("a barrier without a numeric checkpoint id and timestamp");
      }
      if (decoded[3] === 1)
        return { kind: "barrier", checkpointId: decoded[1], timestamp: decoded[2], savepoint: true };
      if (decoded[3] === 2)
        return { kind: "barrier", checkpointId: decoded[1], timestamp: decoded[2], unaligned: true };
      return { kind: "barrier", checkpointId: decoded[1], timestamp: decoded[2] };
    case TAG_STATUS:
      if (typeof decoded[1] !== "boolean") throw new CorruptElementError("a watermark status without a boolean");
      return { kind: "status", idle: decoded[1] };
    case TAG_END:
      return { kind: "end" };
    default:
      throw new CorruptElementError(`unknown element tag ${String(decoded[0])}`);
  }
}

function timestampsOf(raw: unknown, records: number): number[] | undefined {
  if (raw == null) return undefined;
  if (!(raw instanceof Float64Array) || raw.length !== records) {
    throw new CorruptElementError(`a record batch of ${records} records with malformed timestamps`);
  }
  return Array.from(raw);
}

function isColumnar(fields: unknown, columns: unknown, length: unknown): fields is string[] {
  if (!Array.isArray(fields) || !Array.isArray(columns) || columns.length !== fields.length) return false;
  if (typeof length !== "number" || !Number.isInteger(length) || length < 0) return false;
  for (let i = 0; i < fields.length; i++) {
    if (typeof fields[i] !== "string") return false;
    const column = columns[i] as unknown;
    if (column instanceof Int32Array || column instanceof Float64Array) {
      if (column.length !== length) return false;
    } else if (!Array.isArray(column)) {
      return false;
    } else if (column.length === 2 && typeof column[0] === "string" && column[1] instanceof Uint32Array) {
      if (column[1].length !== length) return false;
    } else if (column.length !== length) {
      return false;
    }
  }
  return true;
}

/**
 * Encodes an element into a new buffer of exactly its size, owned by the caller. (msgpackr
 * returns a Node Buffer view into its working buffer, and `Buffer#slice` does not copy: transferring
 * that view's `.buffer` moved msgpackr's whole 86 KB working buffer per batch and forced it to
 * allocate a new one — measured at about a microsecond per record on a cross-thread channel.)
 */
export function encodeElementCopy(element: StreamElement): Uint8Array {
  return Uint8Array.prototype.slice.call(encodeElement(element));
}

/** Generic msgpack encoding for control messages and results (not the record path). */
export function encodeValue(value: unknown): Uint8Array {
  return Uint8Array.prototype.slice.call(packr.pack(value));
}
export function decodeValue<T>(bytes: Uint8Array): T {
  return packr.unpack(bytes) as T;
}
