import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Key, KeyPrimitive } from "@keyflow/functions-sdk";
import fc from "fast-check";
import { hashKey, hashNumber, hashString, KEY_HASH_SEED } from "../../src/partition/key-hash.js";

/** MurmurHash3 x86 32-bit as published (Austin Appleby), over bytes, written for clarity not speed. */
function murmur3(bytes: Uint8Array, seed: number): number {
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  const rotl = (x: number, r: number) => (x << r) | (x >>> (32 - r));
  const byte = (i: number) => bytes[i] as number;
  let h = seed | 0;
  const blocks = Math.floor(bytes.length / 4);
  for (let b = 0; b < blocks; b++) {
    const i = b * 4;
    let k = byte(i) | (byte(i + 1) << 8) | (byte(i + 2) << 16) | (byte(i + 3) << 24);
    k = Math.imul(k, c1);
    k = rotl(k, 15);
    k = Math.imul(k, c2);
    h ^= k;
    h = rotl(h, 13);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = blocks * 4;
  const rest = bytes.length & 3;
  if (rest > 0) {
    let k = 0;
    if (rest >= 3) k ^= byte(tail + 2) << 16;
    if (rest >= 2) k ^= byte(tail + 1) << 8;
    k ^= byte(tail);
    k = Math.imul(k, c1);
    k = rotl(k, 15);
    k = Math.imul(k, c2);
    h ^= k;
  }
  return fmix(h ^ bytes.length);
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The documented bytes of a key: UTF-16LE code units of a string, float64 little-endian of a number (-0 as 0). */
const utf16le = (s: string) => new Uint8Array(Buffer.from(s, "utf16le"));
function float64le(x: number): Uint8Array {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x === 0 ? 0 : x, true);
  return new Uint8Array(view.buffer);
}

/** The documented hash of any key, from the reference. */
function referenceHash(key: Key): number {
  if (typeof key === "string") return murmur3(utf16le(key), KEY_HASH_SEED);
  if (typeof key === "number") return murmur3(float64le(key), KEY_HASH_SEED);
  if (typeof key === "boolean") return murmur3(float64le(key ? 1 : 0), KEY_HASH_SEED);
  if (typeof key === "bigint") return murmur3(utf16le(`n:${key}`), KEY_HASH_SEED);
  let h = 0;
  for (const part of key) h = (Math.imul(h, 31) + referenceHash(part)) | 0;
  return fmix(h ^ key.length);
}

const ascii = (s: string) => new Uint8Array(Buffer.from(s, "latin1"));

/** Strings with lone and paired surrogates, astral characters, and odd and even lengths. */
const anyString = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)), maxLength: 9 }),
  fc.string({ maxLength: 12 }),
);
const anyNumber = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(0, -0, Number.NaN, Number.MAX_SAFE_INTEGER));
const anyPrimitive: fc.Arbitrary<KeyPrimitive> = fc.oneof(anyString, anyNumber, fc.boolean(), fc.bigInt());

describe("key hash", () => {
  it("has a reference MurmurHash3 x86_32 that matches the published test vectors", () => {
    assert.equal(murmur3(new Uint8Array(0), 0), 0);
    assert.equal(murmur3(new Uint8Array(0), 1), 0x514e28b7);
    assert.equal(murmur3(new Uint8Array(0), 0xffffffff), 0x81f16f39);
    assert.equal(murmur3(new Uint8Array([0, 0, 0, 0]), 0), 0x2362f9de);
    assert.equal(murmur3(ascii("aaaa"), 0x9747b28c), 0x5a97808a);
    assert.equal(murmur3(ascii("Hello, world!"), 0x9747b28c), 0x24884cba);
    assert.equal(murmur3(ascii("The quick brown fox jumps over the lazy dog"), 0x9747b28c), 0x2fa826cd);
  });

  it("hashes a string as MurmurHash3 over its UTF-16LE code units with seed 0x4b46, surrogate pairs included", () => {
    assert.equal(KEY_HASH_SEED, 0x4b46);
    fc.assert(
      fc.property(anyString, (s) => {
        assert.equal(hashString(s), murmur3(utf16le(s), 0x4b46));
        assert.equal(hashKey(s), hashString(s));
      }),
      { numRuns: 2000 },
    );
  });

  it("hashes a number as MurmurHash3 over its float64 little-endian bytes with seed 0x4b46", () => {
    fc.assert(
      fc.property(anyNumber, (x) => {
        assert.equal(hashNumber(x), murmur3(float64le(x), 0x4b46));
        assert.equal(hashKey(x), hashNumber(x));
      }),
      { numRuns: 2000 },
    );
  });

  it("hashes -0 as 0, so the two keys meet", () => {
    assert.equal(hashKey(-0), hashKey(0));
  });

  it("hashes booleans, bigints and tuples as documented", () => {
    fc.assert(
      fc.property(fc.oneof(anyPrimitive, fc.array(anyPrimitive, { maxLength: 4 })), (key) => {
        assert.equal(hashKey(key), referenceHash(key));
      }),
      { numRuns: 1000 },
    );
  });

  it("returns an unsigned 32-bit integer", () => {
    fc.assert(
      fc.property(fc.oneof(anyPrimitive, fc.array(anyPrimitive, { maxLength: 3 })), (key) => {
        const h = hashKey(key);
        assert.ok(Number.isInteger(h) && h >= 0 && h <= 0xffffffff, `hash ${h}`);
      }),
    );
  });

  it("keeps the values pinned in the savepoint format (changing one moves keys between key groups)", () => {
    const pinned: Array<[Key, number]> = [
      ["", 0x2ded434e],
      ["a", 0x649ef9ce],
      ["ab", 0xb99e0c0b],
      ["abc", 0x076e0930],
      ["sensor_1", 0xc1db533f],
      ["user-42", 0xae73ac87],
      ["😀", 0x22d876ab],
      [0, 0xdf59a3fa],
      [1, 0xb8bd9eb2],
      [-1, 0xefcac3a0],
      [1.5, 0x82402708],
      [42, 0x7c0551d6],
      [2 ** 53, 0xebbfeaa6],
      [true, 0xb8bd9eb2],
      [false, 0xdf59a3fa],
      [5n, 0x87a8141e],
      [["a", 1], 0xcd15a866],
      [["sensor_1", 2], 0x45f29f66],
      [[], 0],
    ];
    for (const [key, hash] of pinned) {
      assert.equal(hashKey(key), hash, `hash of ${typeof key === "bigint" ? `${key}n` : JSON.stringify(key)}`);
    }
  });
});
