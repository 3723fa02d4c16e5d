import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NumericBlockWriter } from "../../src/codec/numeric-entry-block.js";
import { decodeEntryBlock, encodeEntryBlock } from "../../src/codec/store-codec.js";

/** Numbers at every boundary of msgpack's integer forms, and some that are not integers. */
const NUMBERS = [
  0,
  1,
  31,
  32,
  63,
  64,
  127,
  128,
  255,
  256,
  65_535,
  65_536,
  2 ** 32 - 1,
  2 ** 32,
  2 ** 53 - 1,
  -1,
  -31,
  -32,
  -33,
  -128,
  -129,
  -32_768,
  -32_769,
  -(2 ** 31),
  -(2 ** 31) - 1,
  0.5,
  -2.25,
  1e300,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  -0,
];

function written(state: string, keys: number[], values: number[], from = 0, to = keys.length): Buffer {
  const writer = new NumericBlockWriter(state);
  const target = new Uint8Array(writer.maxBytes(to - from) + 8);
  const view = new DataView(target.buffer);
  const end = writer.write(target, view, 3, Float64Array.from(keys), Float64Array.from(values), from, to);
  return Buffer.from(target.subarray(3, end));
}

describe("NumericBlockWriter", () => {
  it("writes the bytes encodeEntryBlock writes for the same numbers", () => {
    const keys = NUMBERS.map((_, i) => i * 1_000);
    const values = NUMBERS;
    const expected = encodeEntryBlock({
      states: ["count"],
      stateIndex: keys.slice(2, -1).map(() => 0),
      keys: keys.slice(2, -1),
      values: values.slice(2, -1),
      deleted: [],
    });
    assert.deepEqual(written("count", keys, values, 2, keys.length - 1), expected);
  });

  it("writes array headers of every size msgpack has", () => {
    for (const size of [1, 15, 16, 65_535, 65_536]) {
      const keys = Array.from({ length: size }, (_, i) => i);
      const values = keys.map((k) => k * 3 - 7);
      const block = decodeEntryBlock(written("s", keys, values));
      assert.equal(block.keys.length, size);
      assert.deepEqual(block.values.slice(-3), values.slice(-3));
      assert.deepEqual(block.states, ["s"]);
    }
  });
});
