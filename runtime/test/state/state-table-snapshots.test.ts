import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { StateTable } from "../../src/state/state-table.js";
import { SimulatedClock } from "../../src/time/clock.js";
import { ABSENT } from "../../src/util/change-tracker.js";

type Table = StateTable<number[]>;
type Read = ReturnType<Table["snapshot"]>;

function tableOf(entries: Array<[number, number[]]>): Table {
  const table = new StateTable<number[]>(new SimulatedClock());
  for (const [key, value] of entries) table.set(key, value);
  return table;
}

/** Reads `n` entries (all when n is undefined) of a read, copying values as a store would. */
function take(iterator: Iterator<[unknown, unknown]>, n = Number.POSITIVE_INFINITY): Array<[unknown, unknown]> {
  const out: Array<[unknown, unknown]> = [];
  for (let i = 0; i < n; i++) {
    const next = iterator.next();
    if (next.done === true) break;
    out.push(next.value);
  }
  return out;
}
/** The entries of a table's snapshot as a store would write them (values in snapshot form, copied). */
function entriesOf(table: StateTable<number[]>, read: Read): Iterator<[unknown, unknown]> {
  return read.entries((key, value): [unknown, unknown] => [
    key,
    value === ABSENT ? "DELETED" : structuredClone(table.encode(value)),
  ]);
}
function sorted(pairs: Array<[unknown, unknown]>): Array<[unknown, unknown]> {
  return pairs.sort((a, b) => Number(a[0]) - Number(b[0]));
}

/** In-place change through a handle: get the array, push, touch (as ListState.add does). */
function push(table: Table, key: number, value: number): void {
  const list = table.get(key);
  if (list === undefined) table.set(key, [value]);
  else {
    list.push(value);
    table.touch(key);
  }
}

describe("StateTable snapshots", () => {
  it("yield exactly the values at the mark while keys change before they are read", () => {
    const table = tableOf([
      [1, [10]],
      [2, [20]],
      [3, [30]],
      [4, [40]],
    ]);
    const read = table.snapshot(1, "full");
    const iterator = entriesOf(table, read);
    const first = take(iterator, 1); // key 1
    push(table, 1, 11); // already read: no copy needed
    push(table, 2, 21); // in place, not yet read
    table.set(3, [31]); // replaced, not yet read
    table.delete(4); // deleted, not yet read
    table.set(5, [50]); // added after the mark
    const rest = take(iterator);
    read.release();
    assert.deepEqual(sorted([...first, ...rest]), [
      [1, [10]],
      [2, [20]],
      [3, [30]],
      [4, [40]],
    ]);
    assert.deepEqual(table.get(2), [20, 21], "the live value kept its change");
  });

  it("hold only the keys changed since the last completed checkpoint, deletions as deleted", () => {
    const table = tableOf([
      [1, [1]],
      [2, [2]],
      [3, [3]],
    ]);
    const full = table.snapshot(1, "incremental");
    assert.equal(full.mode, "full", "the first snapshot has no base and is full");
    take(entriesOf(table, full));
    full.release();
    table.tracker.complete(1);
    push(table, 1, 9);
    table.delete(3);
    table.set(4, [4]);
    const second = table.snapshot(2, "incremental");
    assert.equal(second.mode, "incremental");
    assert.deepEqual(sorted(take(entriesOf(table, second))), [
      [1, [1, 9]],
      [3, "DELETED"],
      [4, [4]],
    ]);
    second.release();
  });

  it("cover a failed checkpoint's changes in the next one", () => {
    const table = tableOf([
      [1, [1]],
      [2, [2]],
    ]);
    take(entriesOf(table, table.snapshot(1, "full")));
    table.tracker.complete(1);
    table.set(1, [100]);
    const failed = table.snapshot(2, "incremental");
    assert.deepEqual(take(entriesOf(table, failed)), [[1, [100]]]);
    failed.release(); // never completed
    table.set(2, [200]);
    table.set(1, [101]); // changed in both intervals: one entry, the value at the mark
    const next = table.snapshot(3, "incremental");
    assert.deepEqual(sorted(take(entriesOf(table, next))), [
      [1, [101]],
      [2, [200]],
    ]);
    next.release();
    table.tracker.complete(3);
    table.set(2, [201]);
    const after = table.snapshot(4, "incremental");
    assert.deepEqual(take(entriesOf(table, after)), [[2, [201]]], "completion of 3 covered checkpoint 2's changes too");
    after.release();
  });

  it("keep values at each mark for two snapshots read at once", () => {
    const table = tableOf([[1, [1]]]);
    const a = table.snapshot(1, "full");
    push(table, 1, 2);
    const b = table.snapshot(2, "full");
    push(table, 1, 3);
    assert.deepEqual(take(entriesOf(table, b)), [[1, [1, 2]]]);
    assert.deepEqual(take(entriesOf(table, a)), [[1, [1]]]);
    a.release();
    b.release();
    assert.deepEqual(table.get(1), [1, 2, 3]);
  });

  it("store values with their expiry when the state has a TTL, and restore them", () => {
    const clock = new SimulatedClock(1_000);
    const table = new StateTable<string>(clock, { ttl: { ttlMs: 500 } });
    table.set("a", "x");
    clock.advance(100);
    table.set("b", "y");
    const read = table.snapshot(1, "full");
    const entries = [...read.entries((key, raw) => [key, table.encode(raw)] as const)];
    read.release();
    assert.deepEqual(entries, [
      ["a", ["x", 1_500]],
      ["b", ["y", 1_600]],
    ]);
    const restored = new StateTable<string>(clock, { ttl: { ttlMs: 500 } });
    for (const [key, value] of entries) restored.restore(key, value);
    clock.advance(450); // now 1550: a expired, b not
    assert.equal(restored.get("a"), undefined);
    assert.equal(restored.get("b"), "y");
  });
});

type Op =
  | { readonly op: "set"; readonly key: number; readonly value: number }
  | { readonly op: "delete"; readonly key: number }
  | { readonly op: "push"; readonly key: number; readonly value: number }
  | { readonly op: "mark"; readonly incremental: boolean }
  | { readonly op: "read"; readonly which: number; readonly n: number }
  | { readonly op: "finish"; readonly which: number; readonly complete: boolean };

const key = fc.integer({ min: 0, max: 5 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant("set" as const), key, value: fc.integer({ min: 0, max: 99 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("delete" as const), key }) },
  {
    weight: 4,
    arbitrary: fc.record({ op: fc.constant("push" as const), key, value: fc.integer({ min: 0, max: 99 }) }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("mark" as const), incremental: fc.boolean() }) },
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant("read" as const), which: fc.nat(3), n: fc.integer({ min: 1, max: 3 }) }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("finish" as const), which: fc.nat(3), complete: fc.boolean() }) },
);

interface Open {
  readonly id: number;
  readonly read: Read;
  readonly iterator: Iterator<[unknown, unknown]>;
  readonly got: Array<[unknown, unknown]>;
  /** The model's state at the mark. */
  readonly expected: Map<number, number[]>;
  /** The state of the last completed checkpoint at the mark (what an incremental snapshot applies to). */
  readonly base: Map<number, number[]>;
  /** Keys written since that checkpoint, up to the mark: an incremental snapshot holds no others. */
  readonly allowed: Set<number>;
}

const copy = (m: Map<number, number[]>) => new Map([...m].map(([k, v]) => [k, [...v]]));

/**
 * How values of one kind are written: arrays changed in place (a list state), or numbers replaced
 * (a counter, whose snapshot values live in the table's boxes instead of a Map of copies).
 */
interface Flavour {
  readonly name: string;
  set(table: StateTable<unknown>, key: number, value: number): void;
  push(table: StateTable<unknown>, key: number, value: number): void;
  /** The model's value after a push. */
  pushed(before: number[] | undefined, value: number): number[];
  /** A table value (or snapshot value) as the model holds it. */
  model(value: unknown): number[];
}

const arrays: Flavour = {
  name: "arrays changed in place",
  set: (table, key, value) => table.set(key, [value]),
  push: (table, key, value) => push(table as Table, key, value),
  pushed: (before, value) => [...(before ?? []), value],
  model: (value) => value as number[],
};

const numbers: Flavour = {
  name: "numbers replaced",
  set: (table, key, value) => table.set(key, value),
  push: (table, key, value) => table.set(key, ((table.get(key) as number | undefined) ?? 0) + value),
  pushed: (before, value) => [(before?.[0] ?? 0) + value],
  model: (value) => [value as number],
};

describe("StateTable copy-on-write and dirty tracking (property)", () => {
  for (const flavour of [arrays, numbers]) {
    it(`agree with a model (${flavour.name}): every snapshot read amid changes yields the state at its mark`, () => {
      fc.assert(
        fc.property(fc.array(opArb, { maxLength: 80, size: "max" }), (ops) => {
          const table = new StateTable<unknown>(new SimulatedClock());
          const model = new Map<number, number[]>();
          let durable = new Map<number, number[]>();
          let lastCompleted = 0;
          /** Keys written between consecutive marks, by the checkpoint id that sealed them (0: not yet sealed). */
          const written: Array<{ id: number; keys: Set<number> }> = [{ id: Number.POSITIVE_INFINITY, keys: new Set() }];
          const open: Open[] = [];
          let nextId = 1;
          const wrote = (k: number) => (written[written.length - 1] as { keys: Set<number> }).keys.add(k);
          for (const op of [...ops, { op: "finish", which: 0, complete: false } as const]) {
            switch (op.op) {
              case "set":
                flavour.set(table, op.key, op.value);
                model.set(op.key, [op.value]);
                wrote(op.key);
                break;
              case "delete":
                table.delete(op.key);
                model.delete(op.key);
                wrote(op.key);
                break;
              case "push":
                flavour.push(table, op.key, op.value);
                model.set(op.key, flavour.pushed(model.get(op.key), op.value));
                wrote(op.key);
                break;
              case "mark": {
                const id = nextId++;
                (written[written.length - 1] as { id: number }).id = id;
                // As the tracker does after a run of failed checkpoints: more than 8 sets of changes
                // not covered by a completed checkpoint merge into one, sealed at the newest mark,
                // so their keys stay in incremental snapshots until that one completes.
                const pending = written.filter((w) => w.id > lastCompleted && w.keys.size > 0);
                if (pending.length > 8) for (const w of pending) w.id = id;
                const allowed = new Set<number>();
                for (const w of written) if (w.id > lastCompleted) for (const k of w.keys) allowed.add(k);
                written.push({ id: Number.POSITIVE_INFINITY, keys: new Set() });
                const read = (table as Table).snapshot(id, op.incremental ? "incremental" : "full");
                if (op.incremental && lastCompleted > 0) assert.equal(read.mode, "incremental");
                else assert.equal(read.mode, "full");
                open.push({
                  id,
                  read,
                  iterator: entriesOf(table as Table, read),
                  got: [],
                  expected: copy(model),
                  base: copy(durable),
                  allowed,
                });
                break;
              }
              case "read": {
                const s = open[op.which % Math.max(open.length, 1)];
                if (s !== undefined) s.got.push(...take(s.iterator, op.n));
                break;
              }
              case "finish": {
                const i = op.which % Math.max(open.length, 1);
                const s = open[i];
                if (s === undefined) break;
                open.splice(i, 1);
                s.got.push(...take(s.iterator));
                s.read.release();
                assert.equal(new Set(s.got.map(([k]) => k)).size, s.got.length, "each key once");
                const result = s.read.mode === "full" ? new Map<number, number[]>() : copy(s.base);
                for (const [k, v] of s.got) {
                  if (v === "DELETED") result.delete(k as number);
                  else result.set(k as number, flavour.model(v));
                }
                assert.deepEqual(
                  [...result].sort((a, b) => a[0] - b[0]),
                  [...s.expected].sort((a, b) => a[0] - b[0]),
                );
                if (s.read.mode === "incremental") {
                  for (const [k] of s.got)
                    assert.ok(s.allowed.has(k as number), `key ${k} did not change since the base`);
                }
                if (op.complete && s.id > lastCompleted) {
                  table.tracker.complete(s.id);
                  lastCompleted = s.id;
                  durable = copy(s.expected);
                }
                break;
              }
            }
          }
          for (const s of open) s.read.release();
          assert.deepEqual(
            [...table.entries()].map(([k, v]) => [k, flavour.model(v)]).sort((a, b) => Number(a[0]) - Number(b[0])),
            [...model].sort((a, b) => a[0] - b[0]),
          );
        }),
        { numRuns: 400 },
      );
    });
  }
});
