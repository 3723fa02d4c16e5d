import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { valueState } from "@keyflow/functions-sdk";
import { KeyedStateBackend } from "../../src/state/keyed-state-backend.js";
import { FULL_WHEN_CHANGED, OperatorStateSnapshots } from "../../src/state/operator-state-snapshots.js";
import { SimulatedClock } from "../../src/time/clock.js";

const MAX = 128;
const KEYS = 20_000;

let current: { state: OperatorStateSnapshots; backend: KeyedStateBackend } | undefined;
const state = () => (current as { state: OperatorStateSnapshots }).state;

function counters() {
  const backend = new KeyedStateBackend(MAX, new SimulatedClock());
  const { count } = backend.handles({ count: valueState<number | { n: number }>() });
  const state = new OperatorStateSnapshots({
    uid: "op",
    owner: "op shard 0",
    keyGroups: { start: 0, end: MAX - 1 },
    keyed: [backend],
  });
  current = { state, backend };
  const bump = (keys: number) => {
    for (let k = 0; k < keys; k++) {
      backend.currentKey = k;
      const value = count.value();
      count.update(typeof value === "number" ? value + 1 : 1);
    }
  };
  const setObject = (key: number) => {
    backend.currentKey = key;
    count.update({ n: 1 });
  };
  const addKey = (key: number) => {
    backend.currentKey = key;
    count.update(1);
  };
  const countOf = (key: number) => {
    backend.currentKey = key;
    return count.value();
  };
  const table = () => backend.table("count", valueState<number>());
  const values = () => new Map<unknown, unknown>(table().entries());
  /** Takes checkpoint `id` to the end and completes it; returns its mode and number of entries. */
  const checkpoint = (id: number) => {
    const snapshot = state.snapshot(id, "incremental");
    const entries = [...snapshot.keyed].length;
    snapshot.release();
    state.checkpointComplete(id);
    return { mode: snapshot.mode, entries };
  };
  return { bump, checkpoint, setObject, values, table, countOf, addKey };
}

describe("a snapshot of state that mostly changed", () => {
  it(`is full once more than ${FULL_WHEN_CHANGED * 100}% of many keys changed, and incremental below`, () => {
    const { bump, checkpoint } = counters();
    bump(KEYS);
    assert.deepEqual(checkpoint(1), { mode: "full", entries: KEYS }); // the first has no base
    bump(KEYS * 0.1);
    // Copied at the first mark and compared at the second: few changed, so this snapshot holds
    // what differs, and changes are tracked from here on.
    assert.deepEqual(checkpoint(2), { mode: "incremental", entries: KEYS * 0.1 });
    bump(KEYS * 0.1);
    assert.deepEqual(checkpoint(3), { mode: "incremental", entries: KEYS * 0.1 });
    bump(KEYS * 0.4);
    assert.deepEqual(checkpoint(4), { mode: "incremental", entries: KEYS * 0.4 });
    bump(KEYS * 0.9);
    // An incremental record of 90% of the keys would be compacted into a base soon after: full instead.
    assert.deepEqual(checkpoint(5), { mode: "full", entries: KEYS });
  });

  it("keeps a large table of numbers whose keys mostly change in copy mode, comparing each copy with the last, and tracks from the mark where few changed", () => {
    const { bump, checkpoint, values, table } = counters();
    bump(KEYS);
    checkpoint(1);
    // Copy mode from the first mark: no change is tracked (no box per value), so every snapshot
    // is full, and each is the state at its mark even when keys change while it is read.
    assert.equal(table().tracker.tracking, false);
    bump(KEYS * 0.9);
    assert.deepEqual(checkpoint(2), { mode: "full", entries: KEYS });
    assert.equal(table().tracker.tracking, false, "90% changed since the last copy: still copy mode");
    bump(KEYS);
    const before = values();
    const { read, taken } = checkpointWhileChanging(3, () => bump(KEYS));
    assert.equal(read.mode, "full");
    assert.deepEqual(taken, before, "the copy holds the values at the mark");
    for (let id = 4; id <= 12; id++) {
      bump(KEYS * 0.6);
      assert.deepEqual(checkpoint(id), { mode: "full", entries: KEYS });
      assert.equal(table().tracker.tracking, false, `checkpoint ${id}: no remeasure while copies compare`);
    }
    bump(KEYS * 0.1);
    assert.deepEqual(checkpoint(13), { mode: "incremental", entries: KEYS * 0.1 }, "what differs from the last copy");
    assert.equal(table().tracker.tracking, true, "10% changed since the last copy: tracked from this mark");
    bump(KEYS * 0.1);
    assert.deepEqual(checkpoint(14), { mode: "incremental", entries: KEYS * 0.1 });

    function checkpointWhileChanging(id: number, change: () => void) {
      const snapshot = state().snapshot(id, "incremental");
      change();
      const taken = new Map<unknown, unknown>();
      for (const entry of snapshot.keyed) taken.set(entry.key, entry.value);
      snapshot.release();
      state().checkpointComplete(id);
      return { read: snapshot, taken };
    }
  });

  it("tracks from the next mark when a copy cannot be compared with the last (keys were added), and remeasures every 8 snapshots in copy mode", () => {
    const { bump, checkpoint, table, addKey } = counters();
    bump(KEYS);
    checkpoint(1);
    addKey(KEYS);
    bump(KEYS);
    // A key was added: the copies list different keys by position, so nothing is known of what changed.
    assert.deepEqual(checkpoint(2), { mode: "full", entries: KEYS + 1 });
    assert.equal(table().tracker.tracking, true);
    bump(KEYS);
    assert.deepEqual(checkpoint(3), { mode: "full", entries: KEYS + 1 }); // tracked: most changed, copy mode
    assert.equal(table().tracker.tracking, false);
    for (let id = 4; id <= 10; id++) {
      addKey(KEYS + id);
      bump(KEYS * 0.1);
      checkpoint(id);
      assert.equal(table().tracker.tracking, false, `checkpoint ${id}: in copy mode`);
    }
    // The 8th snapshot in copy mode tracks again (a full one); with few changes after it, incremental.
    addKey(KEYS + 11);
    bump(KEYS * 0.1);
    assert.equal(checkpoint(11).mode, "full");
    assert.equal(table().tracker.tracking, true);
    bump(KEYS * 0.1);
    assert.deepEqual(checkpoint(12), { mode: "incremental", entries: KEYS * 0.1 });
  });

  it("copies the first full snapshot of a large table of numbers at the mark, as columns, and compares the next copy with it", () => {
    const { bump, checkpoint, values, table } = counters();
    bump(KEYS);
    const before = values();
    const snapshot = state().snapshot(1, "incremental");
    bump(100); // keys change before the snapshot is read
    assert.equal(snapshot.mode, "full");
    const columns = snapshot.columnar?.columns ?? [];
    assert.equal(columns.length, 1, "the table is one column pair");
    const [copied] = columns;
    assert.ok(copied?.keys instanceof Float64Array && copied.values instanceof Float64Array);
    assert.equal(copied.state, "count");
    assert.deepEqual(new Map(Array.from(copied.keys, (k, i) => [k, copied.values[i]])), before);
    assert.deepEqual([...(snapshot.columnar?.rest ?? [])], [], "nothing else to read");
    const taken = new Map([...snapshot.keyed].map((e) => [e.key, e.value]));
    assert.deepEqual(taken, before, "`keyed` yields the same copy");
    snapshot.release();
    state().checkpointComplete(1);
    assert.equal(table().tracker.tracking, false, "copy mode on probation");
    bump(KEYS * 0.1);
    assert.deepEqual(checkpoint(2), { mode: "incremental", entries: KEYS * 0.1 });
    assert.equal(table().tracker.tracking, true, "few changed since the first copy: tracked from the second mark");
    bump(KEYS * 0.1);
    assert.deepEqual(checkpoint(3), { mode: "incremental", entries: KEYS * 0.1 });
  });

  it("unboxes the tracked values in place when it enters copy mode: reads take the plain path and see the same values", () => {
    const { bump, checkpoint, countOf, values, table } = counters();
    bump(KEYS);
    checkpoint(1);
    bump(KEYS * 0.1);
    checkpoint(2); // few changed since the first copy: tracked from here
    bump(KEYS * 0.9); // boxed: tracked since checkpoint 2
    checkpoint(3);
    assert.equal(table().tracker.tracking, false, "copy mode");
    assert.equal(table().watch, 0, "no boxes left: reads need not look for them");
    assert.ok([...values().values()].every((v) => typeof v === "number"));
    assert.equal(countOf(0), 3);
    assert.equal(countOf(KEYS - 1), 1);
    bump(KEYS * 0.6);
    assert.equal(countOf(0), 4);
    assert.equal(countOf(KEYS - 1), 1);
    assert.deepEqual(checkpoint(4), { mode: "full", entries: KEYS });
    assert.ok([...values().values()].every((v) => typeof v === "number"));
  });

  it("enters copy mode mid-interval once most keys changed, its values unboxed in place and exact", () => {
    const { bump, checkpoint, countOf, table } = counters();
    bump(KEYS);
    checkpoint(1);
    bump(KEYS * 0.1);
    checkpoint(2); // few changed since the first copy: tracked from here
    assert.equal(table().tracker.tracking, true);
    bump(KEYS * 0.7); // tracked, boxed, until more than half changed (checked every 4096 writes)
    assert.equal(table().tracker.tracking, false, "copy mode before the next mark");
    assert.equal(table().watch, 0, "no boxes left");
    assert.equal(countOf(0), 3);
    assert.equal(countOf(KEYS * 0.7 - 1), 2);
    assert.equal(countOf(KEYS * 0.7), 1);
    bump(KEYS);
    assert.deepEqual(checkpoint(3), { mode: "full", entries: KEYS });
    assert.equal(countOf(0), 4);
    assert.equal(countOf(KEYS - 1), 2);
  });

  it("leaves copy mode when a value is an object", () => {
    const { bump, checkpoint, setObject, table } = counters();
    bump(KEYS);
    checkpoint(1);
    bump(KEYS * 0.9);
    checkpoint(2);
    assert.equal(table().tracker.tracking, false);
    bump(KEYS * 0.1);
    setObject(7);
    // An object could change in place: the table tracks again (a full snapshot, copy-on-write).
    assert.deepEqual(checkpoint(3), { mode: "full", entries: KEYS });
    assert.equal(table().tracker.tracking, true);
  });

  it("stays incremental for a small state, whatever changed", () => {
    const { bump, checkpoint } = counters();
    bump(100);
    checkpoint(1);
    bump(100);
    assert.deepEqual(checkpoint(2), { mode: "incremental", entries: 100 });
  });
});
