import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { aggregatingState, reducingState, type StateDeclarations, valueState } from "@keyflow/functions-sdk";
import { keyGroupOf } from "../../src/partition/key-groups.js";
import { KeyedStateBackend } from "../../src/state/keyed-state-backend.js";
import { OperatorStateSnapshots } from "../../src/state/operator-state-snapshots.js";
import type { KeyedStateEntry } from "../../src/state/snapshot.js";
import { SimulatedClock } from "../../src/time/clock.js";

const MAX = 128;

function operatorWith<S extends StateDeclarations>(declarations: S) {
  const backend = new KeyedStateBackend(MAX, new SimulatedClock());
  const handles = backend.handles(declarations);
  const state = new OperatorStateSnapshots({
    uid: "op",
    owner: "op shard 0",
    keyGroups: { start: 0, end: MAX - 1 },
    keyed: [backend],
  });
  return { backend, handles, state };
}

const entry = (state: string, key: string, value: unknown): KeyedStateEntry => ({
  keyGroup: keyGroupOf(key, MAX),
  state,
  key,
  value,
});

describe("State versions in an operator's snapshots and restores", () => {
  it("migrates a reducing value and an aggregating accumulator, and snapshots the new versions", () => {
    const { backend, handles, state } = operatorWith({
      total: reducingState<{ cents: number }>((a, b) => ({ cents: a.cents + b.cents }), {
        version: 2,
        migrate: (old) => ({ cents: Math.round((old as { euros: number }).euros * 100) }),
      }),
      average: aggregatingState<number, { sum: number; n: number }, number>(
        {
          createAccumulator: () => ({ sum: 0, n: 0 }),
          add: (value, acc) => ({ sum: acc.sum + value, n: acc.n + 1 }),
          getResult: (acc) => acc.sum / acc.n,
        },
        {
          version: 3,
          migrate: (old, from) =>
            from === 1
              ? { sum: (old as [number, number])[0], n: (old as [number, number])[1] }
              : (old as { sum: number; n: number }),
        },
      ),
    });
    void state.restore({
      keyed: [entry("total", "a", { euros: 1.25 }), entry("average", "a", [10, 4])],
      operatorState: {},
      stateVersions: { total: 1, average: 1 },
    });
    backend.currentKey = "a";
    handles.total.add({ cents: 5 });
    assert.deepEqual(handles.total.get(), { cents: 130 });
    handles.average.add(20);
    assert.equal(handles.average.get(), 30 / 5);

    // A migrated state has no base: the next snapshot is full, even when asked for incremental.
    const snapshot = state.snapshot(1, "incremental");
    assert.equal(snapshot.mode, "full");
    assert.deepEqual(snapshot.stateVersions, { total: 2, average: 3 });
    snapshot.release();
  });

  it("keeps incremental snapshots after a restore that migrated nothing", () => {
    const { state } = operatorWith({ count: valueState<number>() });
    void state.restore({ keyed: [entry("count", "a", 3)], operatorState: {}, stateVersions: { count: 1 } });
    const snapshot = state.snapshot(1, "incremental");
    assert.equal(snapshot.mode, "incremental");
    snapshot.release();
  });

  it("checks a state's version even when the shard has none of its entries", () => {
    const { state } = operatorWith({ count: valueState<number>() });
    assert.throws(
      () => state.restore({ keyed: [], operatorState: {}, stateVersions: { count: 2 } }),
      (error: unknown) => (error as { code?: string }).code === "STATE_VERSION_UNSUPPORTED",
    );
  });
});

describe("State descriptors' versions", () => {
  it("refuses a version below 1, a fractional one, and a hook at version 1", () => {
    assert.throws(() => valueState<number>({ version: 0 }), RangeError);
    assert.throws(() => valueState<number>({ version: 1.5 }), RangeError);
    assert.throws(() => valueState<number>({ migrate: () => 1 }), /needs a version above 1/);
    assert.equal(valueState<number>({ version: 2 }).version, 2);
  });
});

/** Type behaviour only: the hook returns the declared type (a list's element, a map's value). */
export function typedHooks(): void {
  valueState<{ kelvin: number }>({
    version: 2,
    migrate: (old: unknown, from: number) => ({ kelvin: Number(old) + from }),
  });
  // @ts-expect-error a hook returns the state's type
  valueState<{ kelvin: number }>({ version: 2, migrate: () => ({ celsius: 1 }) });
  // @ts-expect-error a reducing hook returns the reduced type
  reducingState<number>((a, b) => a + b, { version: 2, migrate: () => "1" });
}
