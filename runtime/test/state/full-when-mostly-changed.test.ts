import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { valueState } from "@keyflow/functions-sdk";
import { KeyedStateBackend } from "../../src/state/keyed-state-backend.js";
import { FULL_WHEN_CHANGED, OperatorStateSnapshots } from "../../src/state/operator-state-snapshots.js";
import { SimulatedClock } from "../../src/time/clock.js";

const MAX = 128;
const KEYS = 20_000;

function counters() {
  const backend = new KeyedStateBackend(MAX, new SimulatedClock());
  const { count } = backend.handles({ count: valueState<number>() });
  const state = new OperatorStateSnapshots({
    uid: "op",
    owner: "op shard 0",
    keyGroups: { start: 0, end: MAX - 1 },
    keyed: [backend],
  });
  const bump = (keys: number) => {
    for (let k = 0; k < keys; k++) {
      backend.currentKey = k;
      count.update((count.value() ?? 0) + 1);
    }
  };
  /** Takes checkpoint `id` to the end and completes it; returns its mode and number of entries. */
  const checkpoint = (id: number) => {
    const snapshot = state.snapshot(id, "incremental");
    const entries = [...snapshot.keyed].length;
    snapshot.release();
    state.checkpointComplete(id);
    return { mode: snapshot.mode, entries };
  };
  return { bump, checkpoint };
}

describe("a snapshot of state that mostly changed", () => {
  it(`is full once more than ${FULL_WHEN_CHANGED * 100}% of many keys changed, and incremental below`, () => {
    const { bump, checkpoint } = counters();
    bump(KEYS);
    assert.deepEqual(checkpoint(1), { mode: "full", entries: KEYS }); // the first has no base
    bump(KEYS * 0.1);
    assert.deepEqual(checkpoint(2), { mode: "incremental", entries: KEYS * 0.1 });
    bump(KEYS * 0.9);
    // An incremental record of 90% of the keys would be compacted into a base soon after: full instead.
    assert.deepEqual(checkpoint(3), { mode: "full", entries: KEYS });
    bump(KEYS * 0.4);
    assert.deepEqual(checkpoint(4), { mode: "incremental", entries: KEYS * 0.4 });
  });

  it("stays incremental for a small state, whatever changed", () => {
    const { bump, checkpoint } = counters();
    bump(100);
    checkpoint(1);
    bump(100);
    assert.deepEqual(checkpoint(2), { mode: "incremental", entries: 100 });
  });
});
