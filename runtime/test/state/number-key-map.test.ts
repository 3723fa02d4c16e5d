import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { NumberKeyMap } from "../../src/state/number-key-map.js";

/** Keys a state table meets: small ints (long probe runs in a small table), ±0, NaN, fractions, beyond int32, and strings that look like numbers. */
const key = fc.oneof(
  fc.integer({ min: -40, max: 40 }),
  fc.constantFrom(0, -0, Number.NaN, 0.5, -1.25, 2 ** 31, 2 ** 40 + 1, -(2 ** 53), Number.MAX_VALUE, Number.EPSILON),
  fc.double({ noNaN: false }),
  fc.constantFrom("1", "0", "NaN", "a", "b"),
);

/** Mostly numbers (number mode), now and then a value that is not (object mode, until packed again). */
const value = fc.oneof(
  { weight: 8, arbitrary: fc.oneof(fc.integer(), fc.double(), fc.constantFrom(-0, Number.NaN)) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>("x", { boxed: 1 }, undefined, null) },
);

type Command =
  | { op: "set"; key: unknown; value: unknown }
  | { op: "delete"; key: unknown }
  | { op: "clear" }
  | { op: "pack" };

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant("set" as const), key, value }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant("delete" as const), key }) },
  { weight: 1, arbitrary: fc.constant({ op: "clear" as const }) },
  { weight: 1, arbitrary: fc.constant({ op: "pack" as const }) },
);

/** As a Map compares keys (SameValueZero), sorted so two maps' entries compare whatever their order. */
function contents(map: ReadonlyMap<unknown, unknown>): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  map.forEach((value, k) =>
    out.push([typeof k === "number" ? `n:${Object.is(k, -0) ? 0 : k}` : `s:${String(k)}`, value]),
  );
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

describe("NumberKeyMap", () => {
  it("answers as a Map does under any sequence of sets, deletes and clears", () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 400 }), (commands) => {
        const map = new NumberKeyMap<unknown>();
        const model = new Map<unknown, unknown>();
        for (const c of commands) {
          if (c.op === "pack") {
            const numbers = [...model.entries()].every(
              ([k, v]) => typeof v === "number" || typeof k !== "number" || Number.isNaN(k),
            );
            assert.equal(map.packNumbers(), numbers, "packs exactly when every number key's value is a number");
          } else if (c.op === "set") {
            map.set(c.key, c.value);
            model.set(c.key, c.value);
          } else if (c.op === "delete") {
            assert.equal(map.delete(c.key), model.delete(c.key), `delete ${String(c.key)}`);
          } else {
            map.clear();
            model.clear();
          }
          assert.equal(map.size, model.size);
          if (c.op === "set" || c.op === "delete") {
            assert.equal(map.get(c.key), model.get(c.key), `get ${String(c.key)}`);
            assert.equal(map.has(c.key), model.has(c.key), `has ${String(c.key)}`);
          }
        }
        assert.deepEqual(contents(map), contents(model));
        assert.deepEqual(contents(new Map(map.entries())), contents(model));
        assert.deepEqual([...map.keys()].length, model.size);
        assert.deepEqual(new Set(map.values()), new Set(model.values()));
      }),
      { numRuns: 300 },
    );
  });

  for (const mode of ["number", "object"] as const) {
    it(`finds every key after deletes from the middle of long probe runs, through growth (${mode} mode)`, () => {
      const map = new NumberKeyMap<number | string>();
      const model = new Map<number, number | string>();
      const valueFor = (i: number) => (mode === "number" ? i : `v${i}`);
      // Multiples of a power of two collide in few home slots while the table is small.
      for (let i = 0; i < 20_000; i++) {
        const k = (i % 2 === 0 ? i * 1024 : i * 0.5) - 5_000;
        map.set(k, valueFor(i));
        model.set(k, valueFor(i));
        if (i % 3 === 0) {
          const gone = (i / 3) * 1024 - 5_000;
          assert.equal(map.delete(gone), model.delete(gone));
        }
      }
      assert.equal(map.packNumbers(), mode === "number");
      assert.equal(map.size, model.size);
      for (const [k, v] of model) assert.equal(map.get(k), v, `key ${k}`);
      for (let i = 0; i < 1_000; i++) assert.equal(map.get(i * 1024 + 0.25), undefined);
    });
  }

  it("moves its values beside the keys again once they are all numbers, and keeps them exact", () => {
    const map = new NumberKeyMap<unknown>();
    for (let i = 0; i < 3_000; i++) map.set(i, i / 7);
    map.set(5, { boxed: 5 });
    map.set(-0, -0);
    map.set(1, Number.NaN);
    assert.equal(map.packNumbers(), false);
    assert.deepEqual(map.get(5), { boxed: 5 });
    map.set(5, 5);
    assert.equal(map.packNumbers(), true);
    for (let i = 6; i < 3_000; i++) assert.equal(map.get(i), i / 7);
    assert.ok(Object.is(map.get(0), -0));
    assert.ok(Number.isNaN(map.get(1) as number));
    assert.equal(map.get(5), 5);
    assert.equal(map.size, 3_000);
  });

  it("keeps -0 as 0 and NaN as one key, like a Map", () => {
    const map = new NumberKeyMap<string>();
    map.set(-0, "zero");
    map.set(Number.NaN, "nan");
    map.set(0 / 0, "nan again");
    assert.equal(map.get(0), "zero");
    assert.equal(map.size, 2);
    assert.equal(map.get(Number.NaN), "nan again");
    assert.ok(Object.is([...map.keys()][0], 0));
    assert.equal(map.get("0"), undefined);
  });

  it("copies numbers into columns, and declines when a key or value is not a number", () => {
    const map = new NumberKeyMap<unknown>();
    for (let i = 0; i < 5_000; i++) map.set(i * 3 - 7_000 + (i % 2) * 0.5, i % 2 === 0 ? i : -i / 4);
    map.delete(-7_000);
    const keys = new Float64Array(map.size);
    const values = new Float64Array(map.size);
    assert.equal(map.copyNumbers(keys, values), map.size);
    const copied = new Map<unknown, unknown>();
    for (let i = 0; i < keys.length; i++) copied.set(keys[i], values[i]);
    assert.deepEqual(copied, new Map(map.entries()));
    map.set(1, "one");
    assert.equal(map.copyNumbers(keys, values), -1);
    map.set(1, 1);
    assert.equal(map.copyNumbers(keys, values), map.size);
    map.set("k", 2);
    assert.equal(map.copyNumbers(new Float64Array(map.size), new Float64Array(map.size)), -1);
  });

  it("iterates a copy: writes during an iteration are not seen and do not break it", () => {
    const map = new NumberKeyMap<number>();
    for (let i = 0; i < 100; i++) map.set(i, i);
    const seen: number[] = [];
    for (const [k] of map.entries()) {
      seen.push(k as number);
      map.delete(k); // backward shifts
      map.set(1_000 + (k as number), 0); // growth
    }
    assert.deepEqual(
      seen.sort((a, b) => a - b),
      Array.from({ length: 100 }, (_, i) => i),
    );
    assert.equal(map.size, 100);
  });

  it("changes its layout when number keys are added or removed or the table grows, not when values change; none while it holds other keys", () => {
    const map = new NumberKeyMap<number>();
    for (let k = 0; k < 10; k++) map.set(k, k);
    const filled = map.layout;
    const keys = new Float64Array(10);
    const values = new Float64Array(10);
    map.copyNumbers(keys, values);
    for (let k = 0; k < 10; k++) map.set(k, k * 2);
    assert.equal(map.layout, filled, "updates keep every key where it was");
    const again = new Float64Array(10);
    map.copyNumbers(again, values);
    assert.deepEqual(again, keys, "so two copies list the keys in the same order");
    map.set(10, 10);
    assert.notEqual(map.layout, filled, "an insert");
    const inserted = map.layout;
    map.delete(3);
    assert.notEqual(map.layout, inserted, "a delete");
    const deleted = map.layout;
    for (let k = 100; k < 200; k++) map.set(k, k); // grows
    assert.ok((map.layout as number) > (deleted as number) + 100, "inserts and growth");
    map.set("a", 1);
    assert.equal(map.layout, undefined, "a string key: positions say nothing");
    map.delete("a");
    assert.equal(typeof map.layout, "number");
  });
});
