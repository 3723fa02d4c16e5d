import { Packr } from "msgpackr";
import type { StreamElement } from "../element/stream-element.js";
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

export function encodeElement(element: StreamElement): Uint8Array {
  switch (element.kind) {
    case "records":
      return element.timestamps === undefined
        ? packr.pack([TAG_RECORDS, element.values])
        : packr.pack([TAG_RECORDS, element.values, Float64Array.from(element.timestamps)]);
    case "watermark":
      return packr.pack([TAG_WATERMARK, element.timestamp]);
    case "barrier":
      return packr.pack([TAG_BARRIER, element.checkpointId, element.timestamp]);
    case "end":
      return packr.pack([TAG_END]);
  }
}

export function decodeElement(bytes: Uint8Array): StreamElement {
  const decoded = packr.unpack(bytes) as unknown[];
  switch (decoded[0]) {
    case TAG_RECORDS: {
      const timestamps = decoded[2] as Float64Array | undefined;
      return {
        kind: "records",
        values: decoded[1] as unknown[],
        timestamps: timestamps === undefined ? undefined : Array.from(timestamps),
      };
    }
    case TAG_WATERMARK:
      return { kind: "watermark", timestamp: decoded[1] as number };
    case TAG_BARRIER:
      return { kind: "barrier", checkpointId: decoded[1] as number, timestamp: decoded[2] as number };
    case TAG_END:
      return { kind: "end" };
    default:
      throw new CorruptElementError(`unknown element tag ${String(decoded[0])}`);
  }
}

/** Generic msgpack encoding for control messages and results (not the record path). */
export function encodeValue(value: unknown): Uint8Array {
  return packr.pack(value);
}
export function decodeValue<T>(bytes: Uint8Array): T {
  return packr.unpack(bytes) as T;
}
