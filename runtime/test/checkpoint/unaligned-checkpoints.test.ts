import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  type Collector,
  collectSink,
  defineJob,
  generatorSource,
  SeededRandom,
  tumblingEventTimeWindows,
  valueState,
  WatermarkStrategy,
} from "@keyflow/functions-sdk";
import type { ChannelReader, InputGate } from "../../src/channel/channel.js";
import { LocalChannel } from "../../src/channel/local-channel.js";
import type { ShardCheckpointing, ShardSnapshotReport } from "../../src/checkpoint/shard-checkpointing.js";
import { decodeElement, encodeElementCopy } from "../../src/codec/element-codec.js";
import type { Barrier, RecordBatch, StreamElement } from "../../src/element/stream-element.js";
import { ResultBuffer } from "../../src/embedded/job-result.js";
import { execute } from "../../src/index.js";
import { MailboxScheduler } from "../../src/mailbox/mailbox-scheduler.js";
import { buildExecutionPlan } from "../../src/plan/execution-plan.js";
import { Shard } from "../../src/shard/shard.js";
import type { InFlightBatch } from "../../src/state/snapshot.js";
import { CheckpointStore } from "../../src/state/store/checkpoint-store.js";
import { systemClock } from "../../src/time/clock.js";

/** What the keyed shard under test processed, in order. */
const processed: string[] = [];

// Two sources joined by a union into a keyed operator, which sends on to another keyed operator:
// the shard under test has two input channels and one output channel.
const job = defineJob("two inputs", (env) => {
  const a = env.fromSource(generatorSource({ count: 1, make: (i) => `a${i}` }), "a");
  const b = env.fromSource(generatorSource({ count: 1, make: (i) => `b${i}` }), "b");
  a.union(b)
    .keyBy((id: string) => id)
    .process({
      processElement(id: string, _ctx, out: Collector<string>) {
        processed.push(id);
        out.collect(id);
      },
    })
    .uid("under-test")
    .keyBy((id: string) => id)
    .process({ processElement() {} })
    .uid("after")
    .discard();
});

const batch = (...values: string[]): RecordBatch => ({ kind: "records", values, timestamps: undefined });
const barrier = (checkpointId: number, unaligned: boolean): Barrier =>
  unaligned
    ? { kind: "barrier", checkpointId, timestamp: 0, unaligned: true }
    : { kind: "barrier", checkpointId, timestamp: 0 };
const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

/**
 * The shard of "under-test", wired to hand-driven inputs and to an output whose consumer granted
 * no credit: it is backpressured, so it processes nothing until `grant` is called.
 */
async function backpressuredShard() {
  processed.length = 0;
  const plan = buildExecutionPlan(job.build(), {});
  const vertex = plan.vertices.find((v) => v.head.uid === "under-test");
  assert.ok(vertex !== undefined);
  const reports: ShardSnapshotReport[] = [];
  const processedAtReport: string[][] = [];
  const checkpointing: ShardCheckpointing = {
    onSnapshot(report) {
      reports.push(report);
      processedAtReport.push([...processed]);
    },
    onAbandoned: () => assert.fail("nothing is abandoned here"),
    restoreFor: () => undefined,
    restoredSplits: () => undefined,
  };
  const shard = new Shard({
    plan,
    vertex,
    index: 0,
    nodes: job.build().nodes,
    scheduler: new MailboxScheduler(),
    clock: systemClock,
    results: new ResultBuffer(),
    batchSize: 100,
    bufferTimeoutMs: 0,
    checkpointing,
    onFinished: () => {},
    onFailed: (_shard, error) => assert.fail(error),
  });
  const released = [0, 0];
  const inputs: ChannelReader[] = [0, 1].map((channelId) => ({
    channelId,
    release: () => released[channelId]!++,
    close() {},
  }));
  const downstream: StreamElement[] = [];
  const gate: InputGate = { deliver: (_channel, element) => downstream.push(element) };
  const output = new LocalChannel(2, gate, 0, 0);
  shard.attach(inputs, [[output]]);
  await shard.start();
  return {
    shard,
    reports,
    processedAtReport,
    downstream,
    grant(n: number) {
      for (let i = 0; i < n; i++) output.release();
    },
  };
}

/** The same elements for both kinds: the barrier of checkpoint 1 comes on channel 0 first, behind a1 and a2. */
function deliverScenario(shard: Shard, unaligned: boolean): void {
  shard.deliver(0, batch("a1"));
  shard.deliver(0, batch("a2"));
  shard.deliver(1, batch("b1"));
  shard.deliver(0, barrier(1, unaligned));
  shard.deliver(0, batch("a3"));
  shard.deliver(1, batch("b2"));
  shard.deliver(1, barrier(1, unaligned));
  shard.deliver(1, batch("b3"));
}

const recordsOf = (batches: readonly InFlightBatch[] | undefined) => (batches ?? []).flatMap((b) => [...b.values]);

describe("unaligned checkpoints", () => {
  it("complete at a backpressured shard with two inputs at once: the barrier overtakes the queued records, which are stored as in flight", async () => {
    const { shard, reports, processedAtReport, downstream, grant } = await backpressuredShard();
    deliverScenario(shard, true);
    await turns(5);

    assert.equal(reports.length, 1, "checkpoint 1 is complete at the shard while it processes nothing");
    assert.deepEqual(processedAtReport[0], [], "its snapshot was taken before any queued record");
    const report = reports[0] as ShardSnapshotReport;
    const head = report.snapshots.find((snapshot) => snapshot.uid === "under-test");
    // Exactly the records between the cut and each channel's barrier: a1, a2 on channel 0; b1, b2 on 1.
    assert.deepEqual(recordsOf(head?.inFlight), ["a1", "a2", "b1", "b2"]);
    assert.deepEqual(
      head?.inFlight?.map((b) => b.input),
      [0, 0, 0, 0],
      "a union is one input of its operator",
    );
    assert.deepEqual(downstream, [{ kind: "barrier", checkpointId: 1, timestamp: 0, unaligned: true }]);

    grant(100);
    await turns(5);
    assert.deepEqual(processed, ["a1", "a2", "b1", "a3", "b2", "b3"], "every record is still processed, in order");
    shard.cancel();
  });

  it("an aligned checkpoint at the same shard stays blocked until the queued records are processed", async () => {
    const { shard, reports, processedAtReport, grant } = await backpressuredShard();
    deliverScenario(shard, false);
    await turns(5);
    assert.equal(reports.length, 0, "aligned: no snapshot while the records before the barriers wait");

    grant(100);
    await turns(5);
    assert.equal(reports.length, 1);
    assert.deepEqual(processedAtReport[0], ["a1", "a2", "b1", "b2"]);
    assert.equal(reports[0]?.snapshots.find((s) => s.uid === "under-test")?.inFlight, undefined);
    shard.cancel();
  });

  it("hand over a backlog waiting for credit with the barrier, in order", async () => {
    const delivered: StreamElement[] = [];
    const channel = new LocalChannel(0, { deliver: (_c, element) => delivered.push(element) }, 0, 1);
    channel.send(batch("x1"));
    channel.send(batch("x2"));
    channel.send(batch("x3"));
    assert.equal(delivered.length, 1, "one batch of credit");
    channel.sendPriority(barrier(4, true));
    assert.deepEqual(delivered, [batch("x1"), batch("x2"), batch("x3"), barrier(4, true)]);
    assert.equal(channel.isWritable(), false, "the overdraft is paid back by later releases");
    channel.release();
    channel.release();
    assert.equal(channel.isWritable(), false);
    channel.release();
    assert.equal(channel.isWritable(), true);
  });

  it("carry their kind across threads", () => {
    assert.deepEqual(decodeElement(encodeElementCopy(barrier(9, true))), barrier(9, true));
    assert.deepEqual(decodeElement(encodeElementCopy(barrier(9, false))), barrier(9, false));
  });
});

const EVENTS = 12_000;
const KEYS = 30;
const DISORDER_MS = 40;

interface Event {
  readonly key: string;
  readonly value: number;
  readonly ts: number;
  readonly i: number;
}
interface Total {
  readonly key: string;
  readonly sum: number;
  readonly count: number;
}
interface WindowCount {
  readonly key: string;
  readonly end: number;
  readonly count: number;
}

/** Event i of source `s`: a key, a value, a timestamp rising 1 ms per 10 events, up to 39 ms out of order. */
function makeEvent(s: number, i: number): Event {
  const h = Math.imul((i + s * EVENTS) ^ 0x2c1b3c6d, 0x297a2d39) >>> 0;
  return {
    key: `k${h % KEYS}`,
    value: (h >>> 8) % 100,
    ts: Math.floor(i / 10) - ((h >>> 16) % DISORDER_MS),
    i: i + s * EVENTS,
  };
}

const totals = collectSink<Total>("totals");
const windows = collectSink<WindowCount>("windows");

/** Spins for about `micros` µs: a slow operator, so its inputs back up. */
function spin(micros: number): void {
  const until = performance.now() + micros / 1000;
  while (performance.now() < until) {}
}

/**
 * Two seeded sources joined by a union (so keyed shards have several inputs) into keyed totals
 * (state and an end-of-time timer) and 1-second event-time windows, each slowed down so the
 * channels into them are full; `failAt` lists events where a function throws, once each.
 */
function backpressuredJob(failAt: ReadonlySet<number>, failed: Set<number>) {
  return defineJob("unaligned chaos", (env) => {
    env.setParallelism(2);
    const source = (s: number) =>
      env
        .fromSource(
          generatorSource<Event>({ count: EVENTS, make: (i) => makeEvent(s, i), timestamp: (e) => e.ts }),
          `events-${s}`,
          WatermarkStrategy.forBoundedOutOfOrderness<Event>(DISORDER_MS).withTimestampAssigner((e) => e.ts),
        )
        .uid(`events-${s}`);
    const keyed = source(0)
      .union(source(1))
      .keyBy((e) => e.key);
    keyed
      .process({
        state: { sum: valueState<number>({ defaultValue: 0 }), count: valueState<number>({ defaultValue: 0 }) },
        processElement(e, ctx) {
          spin(3);
          if (failAt.has(e.i) && !failed.has(e.i)) {
            failed.add(e.i);
            throw new Error(`chaos at event ${e.i}`);
          }
          ctx.state.sum.update((ctx.state.sum.value() ?? 0) + e.value);
          ctx.state.count.update((ctx.state.count.value() ?? 0) + 1);
          ctx.timerService.registerEventTimeTimer(Number.MAX_SAFE_INTEGER);
        },
        onTimer(_t, ctx, out: Collector<Total>) {
          out.collect({ key: ctx.key, sum: ctx.state.sum.value() ?? 0, count: ctx.state.count.value() ?? 0 });
        },
      })
      .uid("totals")
      .collect(totals);
    keyed
      .window(tumblingEventTimeWindows<Event>(1_000))
      .aggregate(
        {
          createAccumulator: () => 0,
          add: (_e, n) => {
            spin(2);
            return n + 1;
          },
          getResult: (n) => n,
        },
        {
          process(key, ctx, counts, out) {
            out.collect({ key, end: ctx.window.end, count: counts[0] as number });
          },
        },
      )
      .uid("windows")
      .collect(windows);
  });
}

const byKey = (a: Total, b: Total) => a.key.localeCompare(b.key);
const byWindow = (a: WindowCount, b: WindowCount) => a.key.localeCompare(b.key) || a.end - b.end;

describe("exactly-once state with unaligned checkpoints under backpressure", () => {
  it("a run that crashes at seeded records restores unaligned checkpoints (with in-flight records) from LevelDB and ends with the failure-free results", async () => {
    const truth = await execute(backpressuredJob(new Set(), new Set()), { workers: 0 });
    const dir = await mkdtemp(join(tmpdir(), "kf-unaligned-"));
    const store = await CheckpointStore.open(dir, { retain: 100 });
    try {
      const random = new SeededRandom(7);
      const failAt = new Set(Array.from({ length: 4 }, () => 2_000 + random.nextInt(2 * EVENTS - 4_000)));
      const failed = new Set<number>();
      const restored: string[] = [];
      const result = await execute(backpressuredJob(failAt, failed), {
        workers: 0,
        batchSize: 50,
        credit: 1,
        checkpoints: { intervalMs: 5, storage: store, unaligned: true },
        restartStrategy: { kind: "fixedDelay", attempts: 10, delayMs: 0 },
        log: (line) => {
          if (line.startsWith("restoring")) restored.push(line);
        },
      });
      assert.deepEqual(failed, failAt, "every chosen record crashed the job once");
      const withInFlight = restored.filter((line) => / \(\d+ in-flight records to replay\)/.test(line));
      assert.ok(
        withInFlight.length > 0,
        `at least one restore replayed in-flight records (restores: ${JSON.stringify(restored)})`,
      );
      assert.deepEqual([...result.get(totals)].sort(byKey), [...truth.get(totals)].sort(byKey));
      assert.deepEqual([...result.get(windows)].sort(byWindow), [...truth.get(windows)].sort(byWindow));

      // Such a checkpoint restores only at its parallelism: at another, it is refused by name.
      const unaligned = store
        .completed()
        .find(
          (metadata) =>
            store.restoreInFlight(metadata.id, "totals", 0).length > 0 ||
            store.restoreInFlight(metadata.id, "totals", 1).length > 0,
        );
      assert.ok(unaligned !== undefined, "the store holds a checkpoint with in-flight records");
      await assert.rejects(
        execute(backpressuredJob(new Set(), new Set()), {
          workers: 0,
          parallelism: 3,
          checkpoints: { intervalMs: 1_000, storage: store },
          fromSavepoint: unaligned,
          restartStrategy: { kind: "none" },
        }),
        (error: unknown) => {
          assert.match(String(error), /CHECKPOINT_UNALIGNED_RESCALE|cannot be restored at parallelism 3/);
          return true;
        },
      );
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
