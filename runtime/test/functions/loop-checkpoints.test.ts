import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  type AnyAddress,
  collectSink,
  defineFunction,
  defineJob,
  egress,
  type OperatorNode,
  valueState,
} from "@keyflow/functions-sdk";
import { LOOP_STATE } from "../../src/handler/function-dispatcher-operator.js";
import { LoopRecorder } from "../../src/handler/loop-recorder.js";
import { type CheckpointMetadata, execute, type JobControl } from "../../src/index.js";
import type { StreamOperator } from "../../src/operator/operator.js";
import { keyGroupRangeOf, shardOfKey } from "../../src/partition/key-groups.js";
import { createOperator } from "../../src/shard/create-operator.js";
import type { OperatorSnapshot } from "../../src/state/snapshot.js";
import { CheckpointStore } from "../../src/state/store/checkpoint-store.js";
import { STORE_FORMAT } from "../../src/state/store/records.js";
import { SimulatedClock } from "../../src/time/clock.js";

interface Sum {
  readonly id: string;
  readonly sum: number;
}
const sums = egress<Sum>("sums");

/** Adds what it is sent. */
const tally = defineFunction({
  type: "loop/tally",
  state: { sum: valueState<number>() },
  handle(ctx, message: { readonly n: number }) {
    const sum = (ctx.state.sum.value() ?? 0) + message.n;
    ctx.state.sum.update(sum);
    ctx.egress(sums, { id: ctx.self.id, sum });
  },
});

/** Sends `n` to the tally `to`. */
const relay = defineFunction({
  type: "loop/relay",
  state: {},
  handle(ctx, message: { readonly to: string; readonly n: number }) {
    ctx.send(tally.address(message.to), { n: message.n });
  },
});

const MAX_PARALLELISM = 128;
const UID = "loop-unit";

function functionsNode(): OperatorNode {
  const job = defineJob("loop unit", (env) => {
    env
      .fromCollection<{ to: AnyAddress; message: unknown }>([])
      .toFunctions({ functions: [relay, tally], route: (r) => r as never })
      .uid(UID)
      .egress(sums)
      .collect(collectSink<Sum>("sums"));
  });
  const node = job.build().nodes.find((n) => n.spec.kind === "functions");
  if (node === undefined) throw new Error("no functions node");
  return node;
}

/** An id of `prefix…` owned by `shard` of `parallelism`. */
function idOn(shard: number, parallelism: number, prefix: string): string {
  for (let i = 0; ; i++) {
    const id = `${prefix}${i}`;
    if (shardOfKey(id, MAX_PARALLELISM, parallelism) === shard) return id;
  }
}

/**
 * The shards of one functions operator on one thread, driven by hand: each shard's mails (its
 * inbox drains) wait in its own queue until the test runs them, so the test decides who handles
 * what, and when, relative to each shard's snapshot.
 */
class LoopShards {
  readonly shards: StreamOperator[] = [];
  readonly mails: Array<Array<() => void>> = [];
  readonly sums = new Map<string, number>();

  constructor(readonly parallelism: number) {
    const node = functionsNode();
    const threadShared = new Map<string, unknown>();
    const clock = new SimulatedClock(0);
    for (let shard = 0; shard < parallelism; shard++) {
      const mails: Array<() => void> = [];
      this.mails.push(mails);
      this.shards.push(
        createOperator({
          node,
          runtime: {
            jobName: "loop unit",
            operatorName: node.name,
            operatorUid: UID,
            shardIndex: shard,
            parallelism,
            maxParallelism: MAX_PARALLELISM,
          },
          clock,
          processingTime: {
            now: () => clock.now(),
            registerTimer: (at, callback) => clock.schedule(at - clock.now(), () => callback(at)),
          },
          autoWatermarkIntervalMs: 0,
          output: {
            collect: () => {},
            collectSide: (_tag, value) => {
              const { id, sum } = value as Sum;
              this.sums.set(id, sum);
            },
            emitWatermark: () => {},
            emitWatermarkStatus: () => {},
          },
          keySelectors: [],
          results: { add() {}, addMetrics() {} },
          mail: (action) => mails.push(action),
          threadShared,
        }),
      );
    }
  }

  async open(): Promise<void> {
    for (const shard of this.shards) await shard.open();
  }

  /** An ingress record for the shard owning `to.id`. */
  ingress(to: AnyAddress, message: unknown): void {
    const shard = shardOfKey(to.id, MAX_PARALLELISM, this.parallelism);
    (this.shards[shard] as StreamOperator).processRecord({ to, message }, Number.NaN, 0);
  }

  /** Runs the mails shard `shard` has now (and those they put), until it has none. */
  run(shard: number): void {
    const mails = this.mails[shard] as Array<() => void>;
    while (mails.length > 0) (mails.shift() as () => void)();
  }

  runAll(): void {
    while (this.mails.some((m) => m.length > 0)) for (let s = 0; s < this.parallelism; s++) this.run(s);
  }

  /**
   * Shard `shard` takes its snapshot of `checkpointId`; `reported` gets its part once it is whole
   * (the shard's report, held back until every marker came).
   */
  snapshot(shard: number, checkpointId: number, reported: Map<number, OperatorSnapshot>): void {
    const operator = this.shards[shard] as StreamOperator;
    const snapshot = operator.snapshotState?.(checkpointId, "full") as OperatorSnapshot;
    operator.completeSnapshot?.(checkpointId, snapshot, (whole) => reported.set(shard, whole));
  }

  async restoreFrom(store: CheckpointStore, checkpointId: number): Promise<void> {
    for (let shard = 0; shard < this.parallelism; shard++) {
      const range = keyGroupRangeOf(shard, MAX_PARALLELISM, this.parallelism);
      await this.shards[shard]?.restoreState?.({
        keyed: store.restoreKeyed(checkpointId, UID, range),
        operatorState: store.restoreOperatorState(checkpointId, UID, shard, this.parallelism),
        stateVersions: store.restoreStateVersions(checkpointId, UID) ?? {},
      });
    }
  }
}

/** Writes every shard's part of a checkpoint into the store and completes it. */
async function commit(
  store: CheckpointStore,
  checkpointId: number,
  parts: Map<number, OperatorSnapshot>,
  parallelism: number,
): Promise<void> {
  for (const [shard, snapshot] of parts) await store.writeSnapshot(checkpointId, shard, snapshot);
  await store.complete({
    id: checkpointId,
    kind: "checkpoint",
    timestamp: 0,
    jobName: "loop unit",
    maxParallelism: MAX_PARALLELISM,
    operators: { [UID]: { parallelism, maxParallelism: MAX_PARALLELISM, shards: parallelism } },
    format: STORE_FORMAT,
  });
}

function loopItems(snapshot: OperatorSnapshot | undefined): unknown[] {
  return [...(snapshot?.operatorState[LOOP_STATE]?.items ?? [])];
}

describe("checkpoints across the feedback loop", () => {
  let dir: string;
  let store: CheckpointStore;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "keyflow-loop-"));
    store = await CheckpointStore.open(dir);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("records a message that crossed the cut once, holds one sent after the cut, and restores it exactly once", async () => {
    const loop = new LoopShards(2);
    await loop.open();
    const a = idOn(0, 2, "a");
    const b = idOn(1, 2, "b");
    // Shard 0 relays 5 to b (on shard 1) before its snapshot: the message waits in shard 1's inbox.
    loop.ingress(relay.address(a), { to: b, n: 5 });
    const first = new Map<number, OperatorSnapshot>();
    loop.snapshot(0, 1, first);
    // Shard 1 snapshots before handling it: the 5 crossed the cut (sent before 0's, handled after 1's).
    loop.snapshot(1, 1, first);
    // After its snapshot shard 0 relays 7: behind its marker, so after the cut.
    loop.ingress(relay.address(a), { to: b, n: 7 });
    assert.equal(first.size, 0, "no part is whole before the markers were taken");
    loop.runAll();
    assert.equal(first.size, 2);
    assert.deepEqual(loopItems(first.get(1)), [
      { to: { type: "loop/tally", id: b }, from: { type: "loop/relay", id: a }, message: { n: 5 } },
    ]);
    assert.deepEqual(loopItems(first.get(0)), []);
    assert.equal(loop.sums.get(b), 12);

    // Checkpoint 2: shard 0 snapshots and relays 11 before shard 1 snapshots; shard 1 must not
    // count it in its snapshot (it is after 0's cut), but does count it right after.
    const second = new Map<number, OperatorSnapshot>();
    loop.snapshot(0, 2, second);
    loop.ingress(relay.address(a), { to: b, n: 11 });
    loop.runAll();
    assert.equal(loop.sums.get(b), 12, "held until shard 1 snapshots");
    loop.snapshot(1, 2, second);
    loop.runAll();
    assert.equal(loop.sums.get(b), 23);
    assert.equal(second.size, 2);
    assert.deepEqual(loopItems(second.get(1)), []);

    await commit(store, 1, first, 2);
    await commit(store, 2, second, 2);
    const stored: unknown[] = [];
    for await (const entry of store.restoreKeyed(2, UID, keyGroupRangeOf(1, MAX_PARALLELISM, 2))) {
      if (entry.key === b) stored.push(entry.value);
    }
    assert.deepEqual(stored, [12], "checkpoint 2 holds b without the 11 sent after shard 0's cut");

    // Restoring checkpoint 1 at parallelism 2: b had 0 at the cut, and the 5 in flight is replayed once.
    const again = new LoopShards(2);
    await again.restoreFrom(store, 1);
    await again.open();
    again.runAll();
    assert.equal(again.sums.get(b), 5);
    // The source replays what came after the cut.
    again.ingress(relay.address(a), { to: b, n: 7 });
    again.runAll();
    assert.equal(again.sums.get(b), 12);

    // At parallelism 1 and 3 the recorded message finds its key's new shard.
    for (const parallelism of [1, 3]) {
      const rescaled = new LoopShards(parallelism);
      await rescaled.restoreFrom(store, 1);
      await rescaled.open();
      rescaled.runAll();
      assert.equal(rescaled.sums.get(b), 5, `at parallelism ${parallelism}`);
    }
  });
});

describe("LoopRecorder", () => {
  const envelope = (n: number) => ({ to: { type: "t", id: "x" }, message: { n } });

  it("records messages of a sender until its marker, for each open checkpoint", () => {
    const recorder = new LoopRecorder(2);
    assert.equal(recorder.onSnapshot(7).recording?.openCount, 2);
    recorder.onMessage(1, envelope(1));
    assert.equal(recorder.onSnapshot(8).recording?.openCount, 2);
    recorder.onMessage(1, envelope(2));
    assert.deepEqual(recorder.onMarker(0, 7), []);
    assert.deepEqual(recorder.onMarker(0, 8), []);
    const [seven] = recorder.onMarker(1, 7);
    assert.deepEqual(seven?.recorded, [envelope(1), envelope(2)]);
    recorder.onMessage(1, envelope(3));
    const [eight] = recorder.onMarker(1, 8);
    assert.deepEqual(eight?.recorded, [envelope(2), envelope(3)]);
  });

  it("blocks a sender whose marker came before this shard's snapshot, and releases it in order", () => {
    const recorder = new LoopRecorder(2);
    recorder.onMarker(1, 4);
    assert.equal(recorder.isBlocked(1), true);
    assert.equal(recorder.isBlocked(0), false);
    recorder.hold(1, envelope(1));
    recorder.hold(1, 5);
    recorder.hold(1, envelope(2));
    const { recording, released } = recorder.onSnapshot(4);
    assert.deepEqual(recording?.open, [true, false]);
    assert.deepEqual(released, [
      [1, envelope(1)],
      [1, 5],
      [1, envelope(2)],
    ]);
    assert.equal(recorder.isBlocked(1), false);
  });

  it("drops an aborted checkpoint's recording and opens channels blocked for it", () => {
    const recorder = new LoopRecorder(2);
    recorder.onMarker(0, 3);
    recorder.hold(0, envelope(1));
    const { dropped, released } = recorder.onAborted(3);
    assert.equal(dropped, undefined);
    assert.deepEqual(released, [[0, envelope(1)]]);
    assert.equal(recorder.onSnapshot(3).recording, undefined, "nothing is recorded for an aborted checkpoint");
    recorder.onSnapshot(4);
    assert.equal(recorder.onAborted(4).dropped?.checkpointId, 4);
    assert.equal(recorder.recording, false);
  });

  it("closes a recording at a newer marker of a sender that skipped its checkpoint, and all of them once the loop is quiet", () => {
    const recorder = new LoopRecorder(2);
    recorder.onSnapshot(5);
    recorder.onSnapshot(6);
    recorder.onMarker(0, 5);
    recorder.onMarker(0, 6);
    assert.deepEqual(
      recorder.onMarker(1, 6).map((r) => r.checkpointId),
      [5, 6],
    );
    recorder.onSnapshot(7);
    assert.deepEqual(
      recorder.onQuiet().map((r) => r.checkpointId),
      [7],
    );
  });
});

// ---------------------------------------------------------------------------------------------
// A job whose functions message each other in cycles, crashed many times under checkpoints.

/** One handled message: which function, which id, and how many that id had handled then. */
interface Handled {
  readonly type: string;
  readonly id: string;
  readonly count: number;
  /** A fan's sum of answers after this message. */
  readonly sum?: number;
}
const handled = egress<Handled>("handled");

/** Crash points (global counts of handled messages, over every run of a test); each throws once. */
const chaos = { handled: 0, crashAt: new Set<number>() };

/** Counts a handled message; throws at a seeded point. Returns the id's count after it. */
function step(ctx: {
  readonly state: { readonly count: { value(): number | undefined; update(n: number): void } };
}): number {
  chaos.handled++;
  if (chaos.crashAt.delete(chaos.handled)) throw new Error(`seeded crash at message ${chaos.handled}`);
  const count = (ctx.state.count.value() ?? 0) + 1;
  ctx.state.count.update(count);
  return count;
}

/** Ping-pong between two types, `rounds` times. */
const ping = defineFunction({
  type: "chaos/ping",
  state: { count: valueState<number>() },
  handle(ctx, message: { readonly rounds: number } | { readonly back: number }) {
    const count = step(ctx);
    ctx.egress(handled, { type: "ping", id: ctx.self.id, count });
    const left = "rounds" in message ? message.rounds : message.back - 1;
    if (left > 0) ctx.send(pong.address(`${ctx.self.id}'`), { serve: left });
  },
});
const pong = defineFunction({
  type: "chaos/pong",
  state: { count: valueState<number>() },
  handle(ctx, message: { readonly serve: number }) {
    const count = step(ctx);
    ctx.egress(handled, { type: "pong", id: ctx.self.id, count });
    ctx.send(ctx.caller as never, { back: message.serve });
  },
});

/** Messages itself `n` times. */
const countdown = defineFunction({
  type: "chaos/countdown",
  state: { count: valueState<number>() },
  handle(ctx, message: { readonly n: number }) {
    const count = step(ctx);
    ctx.egress(handled, { type: "countdown", id: ctx.self.id, count });
    if (message.n > 0) ctx.send(ctx.self, { n: message.n - 1 });
  },
});

/** Asks `width` workers and sums their answers (a sum: the same in any order). */
const fan = defineFunction({
  type: "chaos/fan",
  state: { count: valueState<number>(), sum: valueState<number>() },
  handle(ctx, message: { readonly width: number; readonly seq: number } | { readonly answer: number }) {
    const count = step(ctx);
    if ("width" in message) {
      for (let j = 0; j < message.width; j++) {
        ctx.send(worker.address(`w${(message.seq * 7 + j) % 40}`), { ask: message.seq + j });
      }
      ctx.egress(handled, { type: "fan", id: ctx.self.id, count });
      return;
    }
    const sum = (ctx.state.sum.value() ?? 0) + message.answer;
    ctx.state.sum.update(sum);
    ctx.egress(handled, { type: "fan", id: ctx.self.id, count, sum });
  },
});
const worker = defineFunction({
  type: "chaos/worker",
  state: { count: valueState<number>() },
  handle(ctx, message: { readonly ask: number }) {
    const count = step(ctx);
    ctx.egress(handled, { type: "worker", id: ctx.self.id, count });
    ctx.send(ctx.caller as never, { answer: (message.ask * 31) % 97 });
  },
});

/**
 * Schedules a delayed message to a countdown on another key, and one 20 s away whose token it
 * sends to a canceller on another key: the cancel travels the loop back (were it lost, "never"
 * would handle it, seconds later; far enough that a loaded machine does not get there first).
 */
const delayer = defineFunction({
  type: "chaos/delayer",
  state: { count: valueState<number>() },
  handle(ctx, message: { readonly delay: number; readonly seq: number }) {
    const count = step(ctx);
    ctx.egress(handled, { type: "delayer", id: ctx.self.id, count });
    ctx.sendAfter(message.delay, countdown.address(`d${message.seq % 9}`), { n: 1 });
    const token = ctx.sendAfter(20_000, countdown.address("never"), { n: 0 });
    ctx.send(canceller.address(`x${message.seq % 5}`), { token });
  },
});
const canceller = defineFunction({
  type: "chaos/canceller",
  state: { count: valueState<number>() },
  handle(ctx, message: { readonly token: string }) {
    const count = step(ctx);
    ctx.egress(handled, { type: "canceller", id: ctx.self.id, count });
    ctx.cancel(message.token as never);
  },
});

const CHAOS_RECORDS = 1_200;
const CHAOS_UID = "chaos-functions";

function chaosJob(sink: ReturnType<typeof collectSink<Handled>>, ratePerSecond?: number) {
  return defineJob("loop chaos", (env) => {
    env
      .generate({ count: CHAOS_RECORDS, make: (i) => i, ...(ratePerSecond === undefined ? {} : { ratePerSecond }) })
      .uid("chaos-source")
      .toFunctions({
        functions: [ping, pong, countdown, fan, worker, delayer, canceller],
        route: (i: number) => {
          switch (i % 4) {
            case 0:
              return { to: ping.address(`p${i % 23}`), message: { rounds: 4 } };
            case 1:
              return { to: countdown.address(`c${i % 17}`), message: { n: 5 } };
            case 2:
              return { to: fan.address(`f${i % 11}`), message: { width: 6, seq: i } };
            default:
              return { to: delayer.address(`t${i % 13}`), message: { delay: 1 + (i % 5), seq: i } };
          }
        },
      })
      .uid(CHAOS_UID)
      .egress(handled)
      .collect(sink);
  });
}

/** The egress as sorted lines, and each key's final state (its highest count, and a fan's sum then). */
function outcome(records: readonly Handled[]): { lines: string[]; finals: Map<string, string> } {
  // Running sums depend on the order answers came in; only the final one is compared.
  const lines = records.map((h) => `${h.type}/${h.id}#${h.count}`).sort();
  const finals = new Map<string, Handled>();
  for (const h of records) {
    const key = `${h.type}/${h.id}`;
    const best = finals.get(key);
    if (best === undefined || h.count > best.count || (h.count === best.count && h.sum !== undefined))
      finals.set(key, h);
  }
  return { lines, finals: new Map([...finals].map(([k, h]) => [k, `${h.count}:${h.sum ?? ""}`])) };
}

/** Seeded numbers in [0, 1) (mulberry32). */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The store, counting the loop messages of every checkpoint a run restores (read through
 * `restoreOperatorState`, once per shard: each shard's share is the messages of its key groups).
 */
function countingLoopMessages(store: CheckpointStore, restored: Map<number, number>): CheckpointStore {
  return new Proxy(store, {
    get(target, property) {
      if (property === "restoreOperatorState") {
        return (id: number, uid: string, shard: number, parallelism: number) => {
          const state = target.restoreOperatorState(id, uid, shard, parallelism);
          // Union state: every shard gets all of it; count it once.
          if (uid === CHAOS_UID && shard === 0) restored.set(id, state[LOOP_STATE]?.length ?? 0);
          return state;
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

describe("functions in message cycles under checkpoints", () => {
  let dir: string;
  let expected: { lines: string[]; finals: Map<string, string> };
  let totalHandled = 0;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "keyflow-loop-chaos-"));
    const sink = collectSink<Handled>("handled");
    chaos.handled = 0;
    chaos.crashAt.clear();
    const result = await execute(chaosJob(sink), { workers: 0, parallelism: 3, batchSize: 20 });
    totalHandled = chaos.handled;
    expected = outcome(result.get(sink));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("equal the failure-free run after repeated crashes, with loop messages in flight at the restored checkpoints", async () => {
    const random = seeded(20261201);
    const crashes = 6;
    const restored = new Map<number, number>();
    const logs: string[] = [];
    // Whether a restored checkpoint caught messages on the loop depends on timing (a slow machine
    // may complete only the first checkpoint before every crash); each attempt is compared exactly,
    // and attempts go on with new crash points until one restore held loop messages.
    for (let attempt = 0; attempt < 6 && ![...restored.values()].some((n) => n > 0); attempt++) {
      chaos.handled = 0;
      chaos.crashAt.clear();
      // Crash points over the first run's share of the work (later runs redo some of it).
      for (let i = 0; i < crashes; i++) chaos.crashAt.add(Math.floor(totalHandled * (0.1 + 0.8 * random())) + i);
      const attemptStore = await CheckpointStore.open(join(dir, `chaos-${attempt}`));
      restored.clear();
      const sink = collectSink<Handled>("handled");
      const log: string[] = [];
      try {
        const result = await execute(chaosJob(sink, 8_000), {
          workers: 0,
          parallelism: 3,
          batchSize: 20,
          checkpoints: { intervalMs: 3, storage: countingLoopMessages(attemptStore, restored) },
          restartStrategy: { kind: "fixedDelay", attempts: crashes + 1, delayMs: 0 },
          log: (line) => log.push(line),
        });
        const restarts = log.filter((line) => line.startsWith("job failed"));
        assert.ok(restarts.length >= 3, `crashes: ${restarts.length}\n${log.join("\n")}`);
        const got = outcome(result.get(sink));
        assert.deepEqual(got.finals, expected.finals);
        assert.deepEqual(got.lines, expected.lines);
      } finally {
        await attemptStore.close();
      }
      logs.push(`attempt ${attempt}: restored ${[...restored]}`, ...log);
    }
    const withMessages = [...restored.values()].filter((n) => n > 0);
    assert.ok(withMessages.length > 0, `no restored checkpoint held loop messages:\n${logs.join("\n")}`);
  });

  for (const parallelism of [1, 4]) {
    it(`equal the failure-free run from a savepoint at parallelism 3 restored at ${parallelism}`, async () => {
      let store: CheckpointStore | undefined;
      chaos.handled = 0;
      chaos.crashAt.clear();
      let savepoint: Awaited<ReturnType<JobControl["stopWithSavepoint"]>> | undefined;
      let loopMessages = 0;
      // A savepoint with messages in flight on the loop: likely, since the loop is busy; retried if not.
      for (let attempt = 0; attempt < 10 && loopMessages === 0; attempt++) {
        chaos.handled = 0;
        // A store of its own: a run without `fromSavepoint` starts from its store's latest checkpoint.
        await store?.close();
        store = await CheckpointStore.open(join(dir, `savepoints-${parallelism}-${attempt}`));
        const sink = collectSink<Handled>("handled");
        let control: JobControl | undefined;
        const run = execute(chaosJob(sink, 10_000), {
          workers: 0,
          parallelism: 3,
          batchSize: 20,
          checkpoints: { intervalMs: 60_000, storage: store },
          restartStrategy: { kind: "none" },
          onControl: (c) => {
            control = c;
          },
        });
        let ended = false;
        void run.finally(() => {
          ended = true;
        });
        while (chaos.handled < totalHandled / 3 && !ended) await new Promise((resolve) => setTimeout(resolve, 2));
        await (control as JobControl).stopWithSavepoint();
        const result = await run;
        savepoint = result.savepoint;
        assert.ok(savepoint !== undefined);
        loopMessages =
          (store as CheckpointStore).restoreOperatorState(savepoint.id, CHAOS_UID, 0, 3)[LOOP_STATE]?.length ?? 0;
      }
      assert.ok(loopMessages > 0 && store !== undefined, "the savepoint holds loop messages");
      const sink = collectSink<Handled>("handled");
      const result = await execute(chaosJob(sink, 10_000), {
        workers: 0,
        parallelism,
        batchSize: 20,
        checkpoints: { intervalMs: 60_000, storage: store },
        restartStrategy: { kind: "none" },
        fromSavepoint: savepoint as CheckpointMetadata,
      });
      // The restored run commits again the transaction its savepoint pre-committed (everything the
      // first run handled before it: no checkpoint came earlier), so its result is the whole job's.
      await store?.close();
      const got = outcome(result.get(sink));
      assert.deepEqual(got.finals, expected.finals);
      assert.deepEqual(got.lines, expected.lines);
    });
  }
});
