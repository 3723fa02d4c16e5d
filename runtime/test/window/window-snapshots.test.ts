import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type AggregateFunction,
  type Collector,
  continuousEventTimeTrigger,
  countEvictor,
  defineJob,
  eventTimeSessionWindows,
  eventTimeTrigger,
  type GlobalWindow,
  type JobDefinition,
  listState,
  type ProcessWindowFunction,
  slidingEventTimeWindows,
  type TimeWindow,
  tumblingProcessingTimeWindows,
  valueState,
} from "@keyflow/functions-sdk";
import { AlignedWindowOperator } from "../../src/window/aligned-window-operator.js";
import { WindowOperator } from "../../src/window/window-operator.js";
import { ModelStore, plain, readInChunks } from "../helpers/model-store.js";
import { OperatorHarness } from "../helpers/operator-harness.js";
import { checkSnapshotAndRestore, run, type Step } from "../helpers/snapshot-scenario.js";

interface Ev {
  readonly key: string;
  readonly v: number;
}

/** An accumulator changed in place, so copy-on-write has something to protect. */
const stats: AggregateFunction<Ev, { sum: number; n: number }, { sum: number; n: number }> = {
  createAccumulator: () => ({ sum: 0, n: 0 }),
  add: (e, acc) => {
    acc.sum += e.v;
    acc.n += 1;
    return acc;
  },
  getResult: (acc) => ({ sum: acc.sum, n: acc.n }),
  merge: (a, b) => ({ sum: a.sum + b.sum, n: a.n + b.n }),
};

const windowState = { firings: valueState<number>({ defaultValue: 0 }) };
const globalState = { windows: valueState<number>({ defaultValue: 0 }), seen: listState<number>() };

/** Emits one line per firing with the key, the window, the pre-aggregate, and per-window and per-key state. */
const describeFiring: ProcessWindowFunction<
  { sum: number; n: number },
  string,
  string,
  TimeWindow,
  typeof windowState,
  typeof globalState
> = {
  windowState,
  globalState,
  process(key, ctx, [result], out: Collector<string>) {
    const firing = (ctx.windowState.firings.value() ?? 0) + 1;
    ctx.windowState.firings.update(firing);
    const windows = (ctx.globalState.windows.value() ?? 0) + 1;
    ctx.globalState.windows.update(windows);
    ctx.globalState.seen.add(ctx.window.start);
    out.collect(`${key}:[${ctx.window.start},${ctx.window.end}) ${result?.sum}/${result?.n} #${firing} w${windows}`);
  },
};

const keyOfLine = (line: unknown) => String(line).split(":")[0];

/** Records over 7 keys, every 4th one 12 ms late, with a watermark (largest timestamp − 10) every 5 records. */
function eventSteps(from: number, to: number): Step[] {
  const steps: Step[] = [];
  for (let i = from; i < to; i++) {
    steps.push({ record: { key: `k${(i * 3) % 7}`, v: i }, ts: i * 2 - (i % 4 === 0 ? 12 : 0) });
    if (i % 5 === 4) steps.push({ watermark: i * 2 - 10 });
  }
  return steps;
}
/** `after`: the last watermark again first (a restored operator starts without one), then more, then the end. */
function eventAfter(mark: number, to: number): Step[] {
  let last = Number.NEGATIVE_INFINITY;
  for (const step of eventSteps(0, mark)) if ("watermark" in step) last = step.watermark;
  return [{ watermark: last }, ...eventSteps(mark, to), { watermark: 100_000 }];
}

function slidingJob(trigger: boolean): JobDefinition {
  return defineJob(trigger ? "sliding-general" : "sliding-aligned", (env) => {
    const windowed = env
      .fromCollection<Ev>([])
      .keyBy((e) => e.key)
      .window(slidingEventTimeWindows<Ev>(30, 10))
      .allowedLateness(25);
    (trigger ? windowed.trigger(eventTimeTrigger()) : windowed)
      .aggregate(stats, describeFiring)
      .name("windows")
      .discard();
  });
}

describe("window operator snapshots", () => {
  it("keep the aligned path's contents, fired windows and function state, and rebuild its timers on restore", async () => {
    const job = slidingJob(false);
    assert.ok(OperatorHarness.of(job, "windows").operator instanceof AlignedWindowOperator);
    const read = await checkSnapshotAndRestore({
      job,
      operator: "windows",
      before: eventSteps(0, 60),
      after: eventAfter(60, 140),
      keyOfOutput: keyOfLine,
    });
    assert.deepEqual([...new Set(read.map((e) => e.state))].sort(), [
      "__window/aligned",
      "__window/state",
      "seen",
      "windows",
    ]);
    // The mark came after watermark 108: windows ending at or before it fired and wait for their cleanup.
    const windows = read.filter((e) => e.state === "__window/aligned").flatMap((e) => e.value as unknown[][]);
    for (const [start, , fired] of windows) assert.equal(fired, (start as number) + 29 <= 108);
    assert.ok(windows.some((w) => w[2] === true) && windows.some((w) => w[2] === false));
  });

  it("keep the general operator's contents, trigger timers and window state through a restore", async () => {
    const job = slidingJob(true);
    assert.ok(OperatorHarness.of(job, "windows").operator instanceof WindowOperator);
    const read = await checkSnapshotAndRestore({
      job,
      operator: "windows",
      before: eventSteps(0, 60),
      after: eventAfter(60, 140),
      keyOfOutput: keyOfLine,
    });
    const timers = read.filter((e) => e.state === "__timers/event").flatMap((e) => e.value as unknown[][]);
    assert.ok(timers.length > 0);
    for (const [window, at] of timers) {
      const [start, end] = window as number[];
      assert.equal(end, (start as number) + 30, "windows go into snapshots as [start, end]");
      assert.ok(at === (end as number) - 1 || at === (end as number) - 1 + 25, "the end or the cleanup timer");
    }
  });

  it("keep session windows' merging sets and list contents through a restore", async () => {
    const job = defineJob("sessions", (env) => {
      env
        .fromCollection<Ev>([])
        .keyBy((e) => e.key)
        .window(eventTimeSessionWindows<Ev>(9))
        .process({
          globalState: { sessions: valueState<number>({ defaultValue: 0 }) },
          process(key, ctx, elements, out: Collector<string>) {
            const sessions = (ctx.globalState.sessions.value() ?? 0) + 1;
            ctx.globalState.sessions.update(sessions);
            const values = elements.map((e) => e.v).join(",");
            out.collect(`${key}:[${ctx.window.start},${ctx.window.end}) ${values} #${sessions}`);
          },
        })
        .name("sessions")
        .discard();
    });
    // Keys come back every 14 records, often enough (with the late ones) to merge sessions.
    const read = await checkSnapshotAndRestore({
      job,
      operator: "sessions",
      before: eventSteps(0, 60),
      after: eventAfter(60, 140),
      keyOfOutput: keyOfLine,
    });
    const merging = read.filter((e) => e.state === "__window/merging");
    assert.ok(merging.length > 0);
  });

  it("keep a trigger's state and an evictor's contents (sliding count windows) through a restore", async () => {
    const job = defineJob("count-windows", (env) => {
      env
        .fromCollection<Ev>([])
        .keyBy((e) => e.key)
        .countWindow(4, 3)
        .process({
          process(key, _ctx, elements, out: Collector<string>) {
            out.collect(`${key}:${elements.map((e) => e.v).join(",")}`);
          },
        })
        .name("counts")
        .discard();
    });
    const steps = (from: number, to: number): Step[] =>
      Array.from({ length: to - from }, (_, j) => ({ record: { key: `k${((from + j) * 5) % 6}`, v: from + j } }));
    const read = await checkSnapshotAndRestore({
      job,
      operator: "counts",
      before: steps(0, 40),
      after: steps(40, 100),
      keyOfOutput: keyOfLine,
    });
    assert.ok(read.some((e) => e.state === "__window/trigger"));
    const contents = read.filter((e) => e.state === "__window/contents");
    for (const entry of contents) {
      for (const [id, elements] of entry.value as Array<[unknown, unknown[]]>) {
        assert.equal(id, 0, "the global window's id");
        assert.ok(elements.length <= 6, "the evictor keeps at most 4 after a firing, plus up to 2 new");
      }
    }
  });

  it("keep processing-time windows and their timers through a restore", async () => {
    const job = defineJob("processing-time", (env) => {
      env
        .fromCollection<Ev>([])
        .keyBy((e) => e.key)
        .window(tumblingProcessingTimeWindows<Ev>(20))
        .reduce((a, b) => ({ key: a.key, v: a.v + b.v }))
        .name("ptw")
        .discard();
    });
    const steps = (from: number, to: number): Step[] =>
      Array.from({ length: to - from }, (_, j) => [
        { record: { key: `k${((from + j) * 3) % 5}`, v: from + j } } as Step,
        { advance: 3 } as Step,
      ]).flat();
    const read = await checkSnapshotAndRestore({
      job,
      operator: "ptw",
      before: steps(0, 30),
      after: [...steps(30, 70), { advance: 100 }],
      keyOfOutput: (e) => (e as Ev).key,
    });
    assert.ok(read.some((e) => e.state === "__timers/processing"));
  });

  it("keep a continuous trigger's state with global windows' namespace", async () => {
    const job = defineJob("continuous", (env) => {
      env
        .fromCollection<Ev>([])
        .keyBy((e) => e.key)
        .window(slidingEventTimeWindows<Ev>(40, 20))
        .trigger(continuousEventTimeTrigger<Ev, TimeWindow>(7))
        .reduce((a, b) => ({ key: a.key, v: a.v + b.v }))
        .name("continuous")
        .discard();
    });
    await checkSnapshotAndRestore({
      job,
      operator: "continuous",
      before: eventSteps(0, 60),
      after: eventAfter(60, 120),
      keyOfOutput: (e) => (e as Ev).key,
    });
  });

  it("write only the keys whose windows changed after a completed checkpoint", async () => {
    for (const trigger of [false, true]) {
      const harness = await OperatorHarness.of(slidingJob(trigger), "windows").open();
      const store = new ModelStore();
      for (const step of eventSteps(0, 60)) run(harness, step);
      store.apply("full", readInChunks(harness.snapshot(1, "full"), 4));
      await harness.operator.notifyCheckpointComplete?.(1);
      harness.record({ key: "k3", v: 1000 }, 285);
      const delta = readInChunks(harness.snapshot(2, "incremental"), 4);
      assert.deepEqual(new Set(delta.map((e) => e.key)), new Set(["k3"]));
      store.apply("incremental", delta);
      harness.watermark(300); // fires k3's new windows and others: their keys change
      const next = harness.snapshot(3, "incremental");
      assert.equal(next.mode, "incremental");
      store.apply("incremental", readInChunks(next, 4));
      await harness.operator.notifyCheckpointComplete?.(3);
      // Late within the allowed lateness: [270, 300) fires a second time, changing its window state in place.
      harness.record({ key: "k3", v: 7 }, 295);
      assert.ok(harness.take().some((line) => String(line).startsWith("k3:[270,300) 1007/2 #2")));
      store.apply("incremental", readInChunks(harness.snapshot(4, "incremental"), 4));
      assert.deepEqual(plain(store.list()), plain(harness.state()));
    }
  });

  it("write contents an evictor changed in place when a timer fired the window", async () => {
    const job = defineJob("evicting", (env) => {
      env
        .fromCollection<Ev>([])
        .keyBy((e) => e.key)
        .window(slidingEventTimeWindows<Ev>(20, 20))
        .allowedLateness(50)
        .evictor(countEvictor<Ev, TimeWindow>(2))
        .process({
          process(key, _ctx, elements, out: Collector<string>) {
            out.collect(`${key}:${elements.map((e) => e.v).join(",")}`);
          },
        })
        .name("evicting")
        .discard();
    });
    const harness = await OperatorHarness.of(job, "evicting").open();
    const store = new ModelStore();
    for (let v = 0; v < 5; v++) harness.record({ key: "a", v }, v);
    store.apply("full", readInChunks(harness.snapshot(1, "full"), 4));
    await harness.operator.notifyCheckpointComplete?.(1);
    harness.watermark(19); // fires [0, 20): the evictor keeps the last 2 records, in place
    assert.deepEqual(harness.take(), ["a:3,4"]);
    store.apply("incremental", readInChunks(harness.snapshot(2, "incremental"), 4));
    const contents = store.list().find((e) => e.state === "__window/contents");
    assert.ok(contents !== undefined);
    const [[, elements]] = contents.value as Array<[unknown, Array<{ value: Ev }>]>;
    assert.deepEqual(
      elements.map((e) => e.value.v),
      [3, 4],
    );
    assert.deepEqual(plain(store.list()), plain(harness.state()));
  });

  it("fail a snapshot, not the job, for a window of a class with no snapshot form", async () => {
    const custom = { maxTimestamp: () => 10, toString: () => "Custom" };
    const job = defineJob("custom-windows", (env) => {
      env
        .fromCollection<Ev>([])
        .keyBy((e) => e.key)
        .window({
          isEventTime: true,
          shape: { type: "custom" },
          assignWindows: () => [custom],
          defaultTrigger: () => eventTimeTrigger(),
          windowId: () => 1,
        })
        .reduce((a: Ev) => a)
        .name("custom")
        .discard();
    });
    const harness = await OperatorHarness.of(job, "custom").open();
    harness.record({ key: "a", v: 1 }, 5);
    const snapshot = harness.snapshot(1, "full");
    assert.throws(
      () => [...snapshot.keyed],
      (error: Error & { code?: string }) => error.code === "WINDOW_NOT_SNAPSHOTTABLE",
    );
    snapshot.release();
    harness.watermark(20);
    assert.deepEqual(harness.take(), [{ key: "a", v: 1 }], "the operator runs on");
  });
});

// A global window's namespace as "global" (count windows' timers never exist, so check the codec directly).
describe("window codec", () => {
  it("encodes TimeWindow as [start, end] and the GlobalWindow as global, and back", async () => {
    const { encodeWindow, decodeWindow } = await import("../../src/window/window-codec.js");
    const { TimeWindow, GlobalWindow } = await import("@keyflow/functions-sdk");
    assert.deepEqual(encodeWindow(new TimeWindow(10, 20)), [10, 20]);
    assert.equal(encodeWindow(GlobalWindow.instance), "global");
    assert.ok((decodeWindow([10, 20]) as TimeWindow).equals(new TimeWindow(10, 20)));
    assert.equal(decodeWindow("global") as GlobalWindow, GlobalWindow.instance);
  });
});
