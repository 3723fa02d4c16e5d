import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { decodeElement, decodeValue, encodeElement, encodeValue } from "../../src/codec/element-codec.js";
import type { StreamElement } from "../../src/element/stream-element.js";
import { arbitraryElements } from "../channel/elements.js";

const roundTrip = (element: StreamElement) => decodeElement(encodeElement(element).slice());

function assertCorrupt(bytes: Uint8Array): void {
  assert.throws(
    () => decodeElement(bytes),
    (error: unknown) => (error as { code?: unknown }).code === "CODEC_CORRUPT_ELEMENT",
    `bytes ${Buffer.from(bytes).toString("hex")} should not decode`,
  );
}

describe("element codec", () => {
  it("round-trips a batch of plain objects without timestamps", () => {
    const element: StreamElement = {
      kind: "records",
      values: [
        { id: "sensor_1", temperature: 65.5, ok: true },
        { id: "sensor_2", temperature: -3, ok: false },
      ],
      timestamps: undefined,
    };
    assert.deepEqual(roundTrip(element), element);
  });

  it("round-trips a batch with timestamps, NaN marking a record without one", () => {
    const element: StreamElement = {
      kind: "records",
      values: [{ a: 1 }, { a: 2 }, { a: 3 }],
      timestamps: [1_700_000_000_123, Number.NaN, 5],
    };
    assert.deepEqual(roundTrip(element), element);
  });

  it("round-trips batches of mixed shapes, primitives, tuples, nested objects, bigints and unicode", () => {
    const element: StreamElement = {
      kind: "records",
      values: [
        "plain",
        42,
        1.5,
        null,
        ["tuple", 1, true],
        { nested: { deep: [1, 2, { x: "y" }] } },
        { a: 1 },
        { a: 2, b: "different shape" },
        123456789012345678901234567890n,
        "emoji 😀 and \u00e9",
      ],
      timestamps: undefined,
    };
    assert.deepEqual(roundTrip(element), element);
  });

  it("round-trips same-shaped objects whose fields hold strings, numbers and other values", () => {
    const values = Array.from({ length: 50 }, (_, i) => ({
      key: `k${i % 7}😀`,
      amount: i * 1.25,
      tags: i % 2 === 0 ? ["even"] : null,
      big: Number.MAX_SAFE_INTEGER - i,
    }));
    const element: StreamElement = { kind: "records", values, timestamps: values.map((_, i) => i) };
    assert.deepEqual(roundTrip(element), element);
  });

  it("sends a column of 32-bit integers as an Int32Array and any other numbers as doubles, each exactly", () => {
    const ints = Array.from({ length: 20 }, (_, i) => ({
      n: i * 1000 - 7,
      edge: i % 2 === 0 ? 2 ** 31 - 1 : -(2 ** 31),
    }));
    const encodedInts = decodeValue<unknown[]>(encodeElement({ kind: "records", values: ints, timestamps: undefined }));
    const intColumns = encodedInts[2] as unknown[];
    assert.ok(intColumns[0] instanceof Int32Array && intColumns[1] instanceof Int32Array);
    assert.deepEqual(roundTrip({ kind: "records", values: ints, timestamps: undefined }), {
      kind: "records",
      values: ints,
      timestamps: undefined,
    });

    // Past int32, -0, a fraction, NaN and infinities after a run of integers: the column turns to doubles.
    const odd = [1, 2, 3, 2 ** 31, -0, 0.5, Number.NaN, Number.POSITIVE_INFINITY, -(2 ** 31) - 1, 7];
    const values = odd.map((n) => ({ n }));
    const encoded = decodeValue<unknown[]>(encodeElement({ kind: "records", values, timestamps: undefined }));
    assert.ok((encoded[2] as unknown[])[0] instanceof Float64Array);
    const back = roundTrip({ kind: "records", values, timestamps: undefined });
    assert.equal(back.kind, "records");
    if (back.kind === "records") {
      // deepStrictEqual compares with Object.is: -0 must come back as -0, NaN as NaN.
      assert.deepEqual(back.values, values);
      assert.ok(Object.is((back.values[4] as { n: number }).n, -0));
    }
  });

  it("round-trips two records whose field holds a string and then a Uint32Array", () => {
    // The mixed column is [string, Uint32Array], the shape of an encoded string column.
    for (const lengths of [[3, 4], [1]]) {
      const element: StreamElement = {
        kind: "records",
        values: [
          { a: "xyz", b: 1 },
          { a: new Uint32Array(lengths), b: 2 },
        ],
        timestamps: undefined,
      };
      assert.deepEqual(roundTrip(element), element);
    }
  });

  it('round-trips records with an own "__proto__" field without giving them a prototype from it', () => {
    const values = [JSON.parse('{"__proto__": {"polluted": true}, "n": 1}'), JSON.parse('{"__proto__": {}, "n": 2}')];
    const decoded = roundTrip({ kind: "records", values, timestamps: undefined });
    assert.equal(decoded.kind, "records");
    for (const value of (decoded as { values: Array<Record<string, unknown>> }).values) {
      assert.equal(Object.getPrototypeOf(value), Object.prototype);
      assert.equal(value.polluted, undefined);
    }
  });

  it("round-trips watermarks, idle and active statuses, barriers and end-of-input", () => {
    for (const element of [
      { kind: "watermark", timestamp: 1_700_000_000_000 },
      { kind: "watermark", timestamp: Number.MAX_SAFE_INTEGER },
      { kind: "watermark", timestamp: -5 },
      { kind: "status", idle: true },
      { kind: "status", idle: false },
      { kind: "barrier", checkpointId: 7, timestamp: 1234 },
      { kind: "end" },
    ] satisfies StreamElement[]) {
      assert.deepEqual(roundTrip(element), element);
    }
  });

  it("round-trips any sequence of elements a channel may carry", () => {
    fc.assert(
      fc.property(arbitraryElements(), (elements) => {
        for (const element of elements) assert.deepEqual(roundTrip(element), element);
      }),
      { numRuns: 200 },
    );
  });

  it("gives each encoding its own bytes, so an encoded element survives the next encode", () => {
    const first = encodeElement({ kind: "watermark", timestamp: 1 }).slice();
    encodeElement({ kind: "watermark", timestamp: 2 });
    assert.deepEqual(decodeElement(first), { kind: "watermark", timestamp: 1 });
  });

  it("rejects garbage bytes with CODEC_CORRUPT_ELEMENT", () => {
    assertCorrupt(new Uint8Array([]));
    assertCorrupt(new Uint8Array([0xc1]));
    assertCorrupt(new Uint8Array([0x2a])); // the number 42
    assertCorrupt(new Uint8Array([0x92, 0x00])); // an array cut short
    assertCorrupt(new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff]));
    assertCorrupt(encodeValue([99, 1]).slice()); // an unknown tag
    assertCorrupt(encodeValue([0]).slice()); // a batch without values
    assertCorrupt(encodeValue([0, [1, 2], [1]]).slice()); // timestamps that are not a Float64Array
    assertCorrupt(encodeValue([0, [1, 2], new Float64Array(3)]).slice()); // one timestamp too many
    assertCorrupt(encodeValue([1, "soon"]).slice()); // a watermark without a number
    assertCorrupt(encodeValue([2, 7]).slice()); // a barrier without a timestamp
    assertCorrupt(encodeValue([5, "idle"]).slice()); // a status that is not a boolean
    assertCorrupt(encodeValue([4, ["a"], [new Float64Array(2)], 3]).slice()); // a column of the wrong length
    assertCorrupt(encodeValue([4, null, null, null]).slice());
  });

  it("rejects random bytes with CODEC_CORRUPT_ELEMENT or decodes them to a well-formed element", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        let element: StreamElement;
        try {
          element = decodeElement(bytes);
        } catch (error) {
          assert.equal((error as { code?: unknown }).code, "CODEC_CORRUPT_ELEMENT", String(error));
          return;
        }
        switch (element.kind) {
          case "records":
            assert.ok(Array.isArray(element.values));
            if (element.timestamps !== undefined) assert.equal(element.timestamps.length, element.values.length);
            return;
          case "watermark":
            assert.equal(typeof element.timestamp, "number");
            return;
          case "barrier":
            assert.equal(typeof element.checkpointId, "number");
            return;
          case "status":
            assert.equal(typeof element.idle, "boolean");
            return;
          case "end":
            return;
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("round-trips control values with encodeValue and decodeValue", () => {
    const value = { type: "collect", sink: "out", values: [1, "two", { three: 3 }] };
    assert.deepEqual(decodeValue(encodeValue(value).slice()), value);
  });
});
