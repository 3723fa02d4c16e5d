import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  aggregatingState,
  type Collector,
  defineJob,
  type KeyedContext,
  listState,
  mapState,
  reducingState,
  valueState,
} from "@keyflow/functions-sdk";
import { keyOfMapKey } from "../../src/partition/canonical-key.js";
import { keyGroupOf } from "../../src/partition/key-groups.js";
import { DELETED } from "../../src/state/snapshot.js";
import { ModelStore, plain, readInChunks, roundTrip } from "../helpers/model-store.js";
import { OperatorHarness } from "../helpers/operator-harness.js";
import { checkSnapshotAndRestore, run, type Step } from "../helpers/snapshot-scenario.js";

interface Ev {
  readonly key: string;
  readonly n: number;
}
interface Fired {
  readonly key: string;
  readonly at: number;
  readonly domain: string;
  readonly count: number;
  readonly seen: number[];
  readonly average: number | undefined;
}

const state = {
  count: valueState<number>({ defaultValue: 0 }),
  lastTs: valueState<number>(),
  seen: listState<number>(),
  byMod: mapState<string, number>(),
  total: reducingState<number>((a, b) => a + b),
  // An accumulator changed in place: copy-on-write must keep the one at the mark.
  average: aggregatingState<number, { sum: number; n: number }, number>({
    createAccumulator: () => ({ sum: 0, n: 0 }),
    add: (value, acc) => {
      acc.sum += value;
      acc.n += 1;
      return acc;
    },
    getResult: (acc) => acc.sum / acc.n,
  }),
};

type Ctx = KeyedContext<string, typeof state>;

/** Per record: every kind of state, an event-time timer 10 ms on, a processing-time timer on a key's first record; some clears and timer deletions. */
function processElement(ev: Ev, ctx: Ctx, out: Collector<unknown>): void {
  const count = (ctx.state.count.value() ?? 0) + 1;
  ctx.state.count.update(count);
  ctx.state.seen.add(ev.n);
  ctx.state.byMod.put(`m${ev.n % 3}`, ev.n);
  if (ev.n % 4 === 0) ctx.state.byMod.remove("m1");
  ctx.state.total.add(ev.n);
  ctx.state.average.add(ev.n);
  if (ev.n % 5 === 0) ctx.state.seen.clear();
  const ts = ctx.timestamp ?? 0;
  // Every 7th record deletes the timer of the key's record before instead of registering its own.
  const last = ctx.state.lastTs.value();
  if (ev.n % 7 === 0 && last !== undefined) ctx.timerService.deleteEventTimeTimer(last + 10);
  else ctx.timerService.registerEventTimeTimer(ts + 10);
  ctx.state.lastTs.update(ts);
  if (count === 1) ctx.timerService.registerProcessingTimeTimer(ctx.timerService.currentProcessingTime() + 30);
  out.collect({ key: ctx.key, count, total: ctx.state.total.get() });
}

function job(name = "proc") {
  return defineJob("keyed-process-snapshots", (env) => {
    env
      .fromCollection<Ev>([])
      .keyBy((e) => e.key)
      .process({
        state,
        processElement,
        onTimer(at, ctx, out: Collector<Fired>) {
          out.collect({
            key: ctx.key,
            at,
            domain: ctx.timeDomain,
            count: ctx.state.count.value() ?? 0,
            seen: ctx.state.seen.get(),
            average: ctx.state.average.get(),
          });
          if (ctx.timeDomain === "processingTime") ctx.state.count.clear();
        },
      })
      .name(name)
      .discard();
  });
}

const keys = ["a", "b", "c", "d", "e", "f", "g", "h"];
function steps(from: number, to: number): Step[] {
  const out: Step[] = [];
  for (let i = from; i < to; i++) {
    out.push({ record: { key: keys[(i * 5) % keys.length], n: i }, ts: i * 3 });
    if (i % 6 === 5) out.push({ watermark: i * 3 - 8 });
    if (i % 9 === 8) out.push({ advance: 7 });
  }
  return out;
}

describe("keyed process operator snapshots", () => {
  it("snapshot every kind of state and both timer domains at the mark, and restore them at any parallelism", async () => {
    const before = steps(0, 40);
    const after: Step[] = [{ watermark: 39 * 3 - 8 }, ...steps(40, 90), { advance: 100 }, { watermark: 10_000 }];
    const read = await checkSnapshotAndRestore({
      job: job(),
      operator: "proc",
      before,
      after,
      keyOfOutput: (v) => (v as { key: string }).key,
    });
    const states = new Set(read.map((e) => e.state));
    assert.deepEqual([...states].sort(), [
      "__timers/event",
      "__timers/processing",
      "average",
      "byMod",
      "count",
      "lastTs",
      "seen",
      "total",
    ]);
  });

  it("write entries in the documented form: map state as pairs, timers as [namespace, timestamp] by key", async () => {
    const harness = await OperatorHarness.of(job(), "proc").open();
    harness.record({ key: "a", n: 1 }, 100);
    harness.record({ key: "a", n: 2 }, 103);
    const entries = harness.state();
    const of = (stateName: string) => entries.filter((e) => e.state === stateName).map((e) => [e.key, e.value]);
    assert.deepEqual(of("byMod"), [
      [
        "a",
        [
          ["m1", 1],
          ["m2", 2],
        ],
      ],
    ]);
    assert.deepEqual(of("__timers/event"), [
      [
        "a",
        [
          [0, 110],
          [0, 113],
        ],
      ],
    ]);
    assert.deepEqual(of("__timers/processing"), [["a", [[0, 30]]]]);
    assert.deepEqual(of("average"), [["a", { sum: 3, n: 2 }]]);
    for (const entry of entries) assert.equal(entry.keyGroup, keyGroupOf("a", harness.maxParallelism));
  });

  it("fire the restored timers as the original fires them: event time by watermark, processing time by clock", async () => {
    const original = await OperatorHarness.of(job(), "proc").open();
    for (const step of steps(0, 12)) run(original, step);
    const snapshot = original.snapshot(1, "full");
    const entries = readInChunks(snapshot, 1000);
    const restored = OperatorHarness.of(job(), "proc", { clock: original.clock });
    await restored.restore(entries);
    await restored.open();
    original.take();
    for (const harness of [original, restored]) harness.watermark(1_000);
    const byEventTime = original.take();
    assert.ok(byEventTime.length > 0, "event-time timers were pending at the mark");
    assert.deepEqual(restored.take(), byEventTime);
    original.clock.advance(1_000); // one clock: both operators' processing-time timers fire
    const byClock = [...original.take(), ...restored.take()];
    const fired = byClock.filter((v) => (v as Fired).domain === "processingTime");
    assert.equal(fired.length % 2, 0);
    assert.deepEqual(fired.slice(fired.length / 2), fired.slice(0, fired.length / 2));
    assert.ok(fired.length > 0, "processing-time timers were pending at the mark");
  });

  it("write only changed keys incrementally after a completed checkpoint; a failed checkpoint's changes go into the next", async () => {
    const harness = await OperatorHarness.of(job(), "proc").open();
    const store = new ModelStore();
    for (const step of steps(0, 30)) run(harness, step);
    const first = harness.snapshot(1, "incremental");
    assert.equal(first.mode, "full", "no checkpoint completed yet: full");
    store.apply("full", readInChunks(first, 3));
    await harness.operator.notifyCheckpointComplete?.(1);

    harness.record({ key: "a", n: 1001 }, 200);
    const second = harness.snapshot(2, "incremental");
    assert.equal(second.mode, "incremental");
    const changed = readInChunks(second, 3);
    assert.deepEqual(new Set(changed.map((e) => e.key)), new Set(["a"]), "only key a changed");
    store.apply("incremental", changed);
    // Checkpoint 2 fails: never completed.
    harness.record({ key: "b", n: 1002 }, 201);
    harness.watermark(1_000); // every event-time timer fires: their entries go
    await harness.operator.notifyCheckpointAborted?.(2);
    const third = harness.snapshot(3, "incremental");
    const delta = readInChunks(third, 3);
    assert.ok(delta.some((e) => e.key === "a") && delta.some((e) => e.key === "b"), "covers a (from 2) and b");
    assert.ok(
      delta.some((e) => e.state === "__timers/event" && e.value === DELETED),
      "fired timers are deleted entries",
    );
    store.apply("incremental", delta);
    assert.deepEqual(plain(store.list()), plain(harness.state()), "full state = full 1 + increments 2 and 3");
  });

  it("parse tuple keys back for their key groups and timers", async () => {
    const tupleJob = defineJob("tuple-keys", (env) => {
      env
        .fromCollection<{ a: string; b: bigint; n: number }>([])
        .keyBy((e) => [e.a, e.b] as const)
        .process({
          state: { count: valueState<number>() },
          processElement(e, ctx) {
            ctx.state.count.update(e.n);
            ctx.timerService.registerEventTimeTimer(e.n);
          },
          onTimer(at, ctx, out: Collector<unknown>) {
            out.collect([ctx.key, at]);
          },
        })
        .name("tuples")
        .discard();
    });
    const original = await OperatorHarness.of(tupleJob, "tuples").open();
    original.record({ a: "x", b: 5n, n: 7 }, 1);
    original.record({ a: "[1]", b: -2n, n: 9 }, 1);
    const entries = original.state();
    for (const entry of entries) {
      const key = keyOfMapKey(entry.key);
      assert.ok(Array.isArray(key));
      assert.equal(entry.keyGroup, keyGroupOf(key, original.maxParallelism));
    }
    const restored = OperatorHarness.of(tupleJob, "tuples");
    await restored.restore(entries);
    await restored.open();
    restored.watermark(100);
    assert.deepEqual(restored.take(), [
      [["x", 5n], 7],
      [["[1]", -2n], 9],
    ]);
  });

  it("restore from entries that arrive asynchronously, as a store's iterator gives them", async () => {
    const original = await OperatorHarness.of(job(), "proc").open();
    for (const step of steps(0, 30)) run(original, step);
    const entries = original.state().map((e) => ({ ...e, value: roundTrip(e.value) }));
    async function* slowly() {
      for (const entry of entries) {
        await new Promise((resolve) => setImmediate(resolve));
        yield entry;
      }
    }
    const restored = OperatorHarness.of(job(), "proc", { clock: original.clock });
    const done = restored.operator.restoreState?.({ keyed: slowly(), operatorState: {} });
    assert.ok(done instanceof Promise, "an async restore is awaited");
    await done;
    await restored.open();
    assert.deepEqual(plain(restored.state()), plain(entries));
  });

  it("refuse state the operator does not declare, naming it", async () => {
    const harness = OperatorHarness.of(job(), "proc");
    await assert.rejects(
      async () => harness.restore([{ keyGroup: keyGroupOf("a", 128), state: "gone", key: "a", value: 1 }]),
      (error: Error & { code?: string }) =>
        error.code === "STATE_RESTORE_MISMATCH" && /proc#0/.test(error.message) && /"gone"/.test(error.message),
    );
  });
});
