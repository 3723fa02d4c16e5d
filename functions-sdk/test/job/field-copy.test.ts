import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { fieldCopier } from "../../src/index.js";

describe("fieldCopier", () => {
  it("returns a new record with the field replaced and leaves the given record untouched", () => {
    const copy = fieldCopier("amount");
    const record = { shop: "a", amount: 1, at: 5 };
    const copied = copy(record, 7);
    assert.deepEqual(copied, { shop: "a", amount: 7, at: 5 });
    assert.notEqual(copied, record);
    assert.deepEqual(record, { shop: "a", amount: 1, at: 5 });
    assert.deepEqual(Object.keys(copied as object), ["shop", "amount", "at"], "the field order is kept");
  });

  it("copies records of any other shape correctly after compiling for the first one", () => {
    const copy = fieldCopier("n");
    copy({ a: 1, n: 2 }, 0);
    assert.deepEqual(copy({ a: 1, n: 2, extra: true }, 5), { a: 1, n: 5, extra: true });
    assert.deepEqual(copy({ n: 2, a: 1 }, 6), { n: 6, a: 1 });
    assert.deepEqual(copy({ a: 1 }, 7), { a: 1, n: 7 });
    assert.deepEqual(copy({ b: 1, c: 2 }, 8), { b: 1, c: 2, n: 8 });
    const withOptional: { a: number; n: number; o?: number } = { a: 1, n: 2, o: undefined };
    assert.deepEqual(copy(withOptional, 9), { a: 1, n: 9, o: undefined });
  });

  it("copies tuples with slice, replacing the element at the index", () => {
    const copy = fieldCopier(1);
    const tuple = ["k", 1, "x"];
    assert.deepEqual(copy(tuple, 9), ["k", 9, "x"]);
    assert.deepEqual(tuple, ["k", 1, "x"]);
  });

  it("keeps field names that need quoting", () => {
    const copy = fieldCopier('we"ird');
    assert.deepEqual(copy({ 'we"ird': 1, "a b": 2, "\u2028": 3 }, 4), { 'we"ird': 4, "a b": 2, "\u2028": 3 });
  });

  it('keeps an own "__proto__" field a field, never the copy\'s prototype', () => {
    const copy = fieldCopier("n");
    const record = JSON.parse('{"__proto__": {"polluted": true}, "n": 1}') as { n: number };
    const copied = copy(record, 2) as Record<string, unknown>;
    assert.deepEqual(Object.keys(copied), ["__proto__", "n"]);
    assert.equal(Object.getPrototypeOf(copied), Object.prototype);
    assert.equal(copied.polluted, undefined);
  });

  it("equals a spread copy for any plain record", () => {
    const record = fc.dictionary(fc.string({ maxLength: 5 }), fc.oneof(fc.integer(), fc.string(), fc.boolean()), {
      maxKeys: 6,
    });
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 5 }), fc.string({ maxLength: 5 }), (records, field) => {
        const copy = fieldCopier(field);
        for (const r of records) {
          const expected: Record<string, unknown> = { ...r };
          Object.defineProperty(expected, field, { value: 42, enumerable: true, writable: true, configurable: true });
          assert.deepEqual(copy(r, 42), expected);
        }
      }),
      { numRuns: 300 },
    );
  });
});
