import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { crc32 } from "node:zlib";
import fc from "fast-check";
import {
  decodeEntryBlock,
  decodeStoreRecord,
  encodeEntryBlock,
  encodeStoreRecord,
} from "../../src/codec/store-codec.js";

const corrupt = (error: unknown) => (error as { code?: unknown }).code === "CODEC_CORRUPT_STORE_RECORD";

/** A frame with a correct checksum around any body. */
function framed(body: Uint8Array): Buffer {
  const out = Buffer.alloc(body.length + 4);
  out.writeUInt32BE(crc32(body), 0);
  out.set(body, 4);
  return out;
}

describe("store codec", () => {
  it("round-trips state values: Maps stay Maps, bigints stay bigints, objects keep their fields", () => {
    const value = {
      totals: new Map<unknown, unknown>([
        ["a", 1],
        [2, { nested: [1, 2, 3] }],
      ]),
      seen: new Set(["x"]),
      big: 2n ** 60n,
      at: new Date(5),
      missing: undefined,
      list: [1.5, "two", null, true],
    };
    assert.deepEqual(decodeStoreRecord(encodeStoreRecord(value)), value);
  });

  it("round-trips a block of entries with its deletions", () => {
    const block = {
      states: ["count", "__timers/event"],
      stateIndex: [0, 1, 0],
      keys: ["a", 7, "c"],
      values: [{ n: 1 }, [10, 20], null],
      deleted: [2],
    };
    assert.deepEqual(decodeEntryBlock(encodeEntryBlock(block)), block);
  });

  it("rejects any single flipped byte, a truncation, and a replaced value", () => {
    const bytes = encodeStoreRecord({ id: 7, kind: "checkpoint", operators: { a: { shards: 2 } } });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, flip) => {
        const damaged = Buffer.from(bytes);
        damaged[at] ^= flip;
        assert.throws(() => decodeStoreRecord(damaged), corrupt);
      }),
    );
    assert.throws(() => decodeStoreRecord(bytes.subarray(0, bytes.length - 1)), corrupt);
    assert.throws(() => decodeStoreRecord(Buffer.from("hello")), corrupt);
    assert.throws(() => decodeStoreRecord(Buffer.alloc(3)), corrupt);
  });

  it("names a body that passes its checksum but is not msgpack, and a record that is not a block", () => {
    assert.throws(() => decodeStoreRecord(framed(Buffer.from([0x92, 0x01]))), /does not decode/);
    assert.throws(() => decodeEntryBlock(encodeStoreRecord({ id: 1 })), /state block of the wrong shape/);
    assert.throws(() => decodeEntryBlock(encodeStoreRecord([1, ["s"], [0, 0], ["k"], [1], []])), /malformed columns/);
  });
});
