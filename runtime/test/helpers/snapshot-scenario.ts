import assert from "node:assert/strict";
import type { JobDefinition } from "@keyflow/functions-sdk";
import type { KeyedStateEntry } from "../../src/state/snapshot.js";
import { SimulatedClock } from "../../src/time/clock.js";
import { ModelStore, plain, readInChunks } from "./model-store.js";
import { OperatorHarness } from "./operator-harness.js";

/** One thing that happens to an operator: a record (on `input`, default 0), a watermark, or processing time passing. */
export type Step =
  | { readonly record: unknown; readonly ts?: number; readonly input?: number }
  | { readonly watermark: number }
  | { readonly advance: number };

export interface Scenario {
  readonly job: JobDefinition;
  /** The operator's name in the job. */
  readonly operator: string;
  /** What happens before the checkpoint's mark. */
  readonly before: readonly Step[];
  /** What happens after it: while the snapshot is read, and after. */
  readonly after: readonly Step[];
  /** Entries read per chunk (default 2). */
  readonly chunk?: number;
  /** Steps of `after` run between two chunks (default 3). */
  readonly stepsPerChunk?: number;
  /** The key of an output record: outputs are compared key by key (order within a key kept). */
  readonly keyOfOutput: (value: unknown) => unknown;
}

/**
 * Runs the checkpoint cycle every stateful operator must survive, and checks it:
 * 1. the operator runs `before`, a full snapshot is marked, and it is read a few entries at a
 *    time while `after` runs on the same operator (changing keys before they are read);
 * 2. what was read must equal the full state of a twin that ran `before` only, read at once
 *    (copy-on-write: the snapshot is the state at the mark);
 * 3. the snapshot is restored into a fresh operator (one shard) and into two shards of a
 *    parallelism of 2 (each taking the entries of its key groups, as a rescale would); all run
 *    `after`. Outputs (key by key) and final state must equal the original's, and each restored
 *    operator's next (incremental) snapshot applied to what it restored must give its state.
 * Returns what was read, for checks of the format.
 */
export async function checkSnapshotAndRestore(scenario: Scenario): Promise<KeyedStateEntry[]> {
  const { job, operator: name, before, after } = scenario;
  const original = await OperatorHarness.of(job, name).open();
  const twin = await OperatorHarness.of(job, name).open();
  for (const step of before) {
    run(original, step);
    run(twin, step);
  }
  const atMark = twin.state();
  const markTime = original.clock.now();
  original.emitted.length = 0;
  const snapshot = original.snapshot(1, "full");
  assert.equal(snapshot.mode, "full");
  const operatorState = Object.fromEntries(
    Object.entries(snapshot.operatorState).map(([stateName, list]) => [stateName, structuredClone(list.items)]),
  );
  const perChunk = scenario.stepsPerChunk ?? 3;
  let next = 0;
  const read = readInChunks(snapshot, scenario.chunk ?? 2, () => {
    for (let i = 0; i < perChunk && next < after.length; i++) run(original, after[next++] as Step);
  });
  assert.ok(next > 0, "the scenario changes state while the snapshot is read");
  while (next < after.length) run(original, after[next++] as Step);
  assert.deepEqual(plain(read), plain(atMark), "the snapshot holds the state at the mark");

  const same = OperatorHarness.of(job, name, { clock: new SimulatedClock(markTime) });
  await same.restore(read, operatorState);
  await same.open();
  const shards = [0, 1].map((shardIndex) =>
    OperatorHarness.of(job, name, { shardIndex, parallelism: 2, clock: new SimulatedClock(markTime) }),
  );
  for (const shard of shards) {
    const { start, end } = shard.keyGroups;
    assert.ok(
      read.some((e) => e.keyGroup >= start && e.keyGroup <= end),
      "each of two shards restores some of the state",
    );
    await shard.restore(read, operatorState);
    await shard.open();
  }
  for (const step of after) {
    run(same, step);
    for (const shard of shards) if (!("record" in step) || shard.owns(step.record, step.input)) run(shard, step);
  }
  const expected = byKey(original.take(), scenario.keyOfOutput);
  assert.ok(expected.length > 0, "the operator emits after the mark");
  assert.deepEqual(byKey(same.take(), scenario.keyOfOutput), expected, "restored: the same outputs");
  assert.deepEqual(
    byKey(
      shards.flatMap((s) => s.take()),
      scenario.keyOfOutput,
    ),
    expected,
    "restored on two shards: the same outputs",
  );
  const finalState = plain(original.state());
  assert.deepEqual(plain(same.state()), finalState, "restored: the same final state");
  assert.deepEqual(plain(shards.flatMap((s) => s.state())), finalState, "restored on two shards: the same final state");
  // A restored operator's next checkpoint may be incremental: relative to the state it restored.
  for (const harness of [same, ...shards]) {
    const { start, end } = harness.keyGroups;
    const store = new ModelStore().apply(
      "full",
      read.filter((e) => e.keyGroup >= start && e.keyGroup <= end),
    );
    const next = harness.snapshot(2, "incremental");
    assert.equal(next.mode, "incremental", "a restored operator has a base");
    store.apply("incremental", readInChunks(next, 5));
    assert.deepEqual(plain(store.list()), plain(harness.state()), "restored state + increment = state");
  }
  return read;
}

export function run(harness: OperatorHarness, step: Step): void {
  if ("record" in step) harness.record(step.record, step.ts ?? Number.NaN, step.input ?? 0);
  else if ("watermark" in step) harness.watermark(step.watermark);
  else harness.clock.advance(step.advance);
}

/** Outputs grouped by key, in order within each key; keys sorted. */
function byKey(values: unknown[], keyOf: (value: unknown) => unknown): Array<[string, unknown[]]> {
  const groups = new Map<string, unknown[]>();
  for (const value of values) {
    const key = JSON.stringify(keyOf(value));
    const group = groups.get(key) ?? [];
    group.push(value);
    groups.set(key, group);
  }
  return [...groups].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}
