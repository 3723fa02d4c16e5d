import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Collector, defineJob, listState, mapState, type SinkWriter, valueState } from "@keyflow/functions-sdk";
import { BROADCAST_STATE } from "../../src/state/broadcast-state.js";
import { plain, readInChunks } from "../helpers/model-store.js";
import { OperatorHarness } from "../helpers/operator-harness.js";
import { checkSnapshotAndRestore, type Step } from "../helpers/snapshot-scenario.js";

interface Order {
  readonly id: string;
  readonly amount: number;
}
interface Payment {
  readonly order: string;
  readonly paid: number;
}

const coProcessJob = defineJob("co-process-snapshots", (env) => {
  const orders = env.fromCollection<Order>([]);
  const payments = env.fromCollection<Payment>([]);
  orders
    .connect(payments)
    .keyBy(
      (o) => o.id,
      (p) => p.order,
    )
    .process({
      state: { order: valueState<Order>(), paid: listState<number>() },
      processElement1(order, ctx, out: Collector<string>) {
        ctx.state.order.update(order);
        ctx.timerService.registerEventTimeTimer((ctx.timestamp ?? 0) + 50);
        out.collect(`${order.id}:ordered`);
      },
      processElement2(payment, ctx, out: Collector<string>) {
        ctx.state.paid.add(payment.paid);
        const order = ctx.state.order.value();
        const total = ctx.state.paid.get().reduce((a, b) => a + b, 0);
        if (order !== undefined && total >= order.amount) {
          out.collect(`${payment.order}:paid ${total}`);
          ctx.state.order.clear();
          ctx.state.paid.clear();
        }
      },
      onTimer(at, ctx, out) {
        const order = ctx.state.order.value();
        if (order !== undefined) out.collect(`${order.id}:unpaid at ${at} (${ctx.state.paid.get().join("+")})`);
      },
    })
    .name("match")
    .discard();
});

const keyOfLine = (line: unknown) => String(line).split(":")[0];

function orderSteps(from: number, to: number): Step[] {
  const steps: Step[] = [];
  for (let i = from; i < to; i++) {
    steps.push({ record: { id: `o${i % 12}`, amount: 10 + (i % 5) }, ts: i * 4, input: 0 });
    steps.push({ record: { order: `o${(i * 7) % 12}`, paid: 3 + (i % 4) }, ts: i * 4 + 1, input: 1 });
    if (i % 5 === 4) steps.push({ watermark: i * 4 - 30 });
  }
  return steps;
}

interface Reading {
  readonly sensor: string;
  readonly temperature: number;
}
interface Rule {
  readonly sensor: string;
  readonly threshold: number;
}

const broadcastJob = defineJob("broadcast-snapshots", (env) => {
  const rules = env.fromCollection<Rule>([]).broadcast({ thresholds: mapState<string, number>() });
  env
    .fromCollection<Reading>([])
    .keyBy((r) => r.sensor)
    .connect(rules)
    .process({
      state: { alerts: valueState<number>({ defaultValue: 0 }) },
      processElement(reading, ctx, out: Collector<string>) {
        const threshold = ctx.broadcastState.thresholds.get(reading.sensor);
        if (threshold === undefined || reading.temperature <= threshold) return;
        const alerts = (ctx.state.alerts.value() ?? 0) + 1;
        ctx.state.alerts.update(alerts);
        out.collect(`${ctx.key}:${alerts}@${reading.temperature}`);
      },
      processBroadcastElement(rule, ctx) {
        ctx.broadcastState.thresholds.put(rule.sensor, rule.threshold);
      },
    })
    .name("rules")
    .discard();
});

const sensors = ["s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8"];
/** A rule every 5 readings (sensors s1, s2, ... in turn, threshold i mod 37), readings over all sensors. */
function readingSteps(from: number, to: number): Step[] {
  const steps: Step[] = [];
  for (let i = from; i < to; i++) {
    if (i % 5 === 0) steps.push({ record: { sensor: sensors[(i / 5) % 8], threshold: i % 37 }, input: 1 });
    steps.push({ record: { sensor: sensors[i % 8], temperature: (i * 13) % 60 }, input: 0 });
  }
  return steps;
}

interface Sale {
  readonly shop: string;
  readonly amount: number;
  readonly note: string;
}
function saleSteps(from: number, to: number): Step[] {
  return Array.from({ length: to - from }, (_, j) => {
    const i = from + j;
    return { record: { shop: `shop${(i * 3) % 7}`, amount: (i % 9) + 1, note: `n${i}` } };
  });
}

describe("keyed operator snapshots", () => {
  it("keep a keyed co-process function's state and timers from both inputs through a restore", async () => {
    await checkSnapshotAndRestore({
      job: coProcessJob,
      operator: "match",
      before: orderSteps(0, 20),
      after: [{ watermark: 19 * 4 - 30 }, ...orderSteps(20, 50), { watermark: 10_000 }],
      keyOfOutput: keyOfLine,
    });
  });

  it("keep broadcast state and keyed state of a keyed broadcast function through a restore", async () => {
    const read = await checkSnapshotAndRestore({
      job: broadcastJob,
      operator: "rules",
      before: readingSteps(0, 40),
      after: readingSteps(40, 100),
      keyOfOutput: keyOfLine,
    });
    assert.ok(read.some((e) => e.state === "alerts"));
  });

  it("restore broadcast state as a union: every new shard takes one copy of the same maps", async () => {
    const old = await Promise.all(
      [0, 1].map((shardIndex) => OperatorHarness.of(broadcastJob, "rules", { shardIndex, parallelism: 2 }).open()),
    );
    for (const step of readingSteps(0, 60)) {
      if (!("record" in step) || step.input !== 1) continue;
      for (const shard of old) shard.record(step.record, Number.NaN, 1); // every shard sees every rule
    }
    const snapshots = old.map((shard) => shard.snapshot(7, "full"));
    const union = snapshots.flatMap((s) => s.operatorState[BROADCAST_STATE]?.items ?? []);
    for (const s of snapshots) assert.equal(s.operatorState[BROADCAST_STATE]?.distribution, "union");
    const keyed = snapshots.flatMap((s) => readInChunks(s, 10));
    // Rules at i = 0, 5, ..., 55 set s1..s8, then s1..s4 again (i = 40..55: the later rule wins).
    const expected = [
      ["s1", 3],
      ["s2", 8],
      ["s3", 13],
      ["s4", 18],
      ["s5", 20],
      ["s6", 25],
      ["s7", 30],
      ["s8", 35],
    ];
    const restored = await Promise.all(
      [0, 1, 2].map(async (shardIndex) => {
        const shard = OperatorHarness.of(broadcastJob, "rules", { shardIndex, parallelism: 3 });
        await shard.restore(keyed, { [BROADCAST_STATE]: union });
        return shard.open();
      }),
    );
    for (const shard of restored) {
      const items = shard.snapshot(8, "full").operatorState[BROADCAST_STATE]?.items;
      assert.deepEqual(items, [["thresholds", expected]]);
    }
  });

  it("keep rolling reduce values through a restore", async () => {
    const job = defineJob("reduce-snapshots", (env) => {
      env
        .fromCollection<Sale>([])
        .keyBy((s) => s.shop)
        .reduce((a, b) => ({ shop: a.shop, amount: a.amount + b.amount, note: `${a.note}|${b.note}`.slice(-12) }))
        .name("reduce")
        .discard();
    });
    await checkSnapshotAndRestore({
      job,
      operator: "reduce",
      before: saleSteps(0, 30),
      after: saleSteps(30, 80),
      keyOfOutput: (s) => (s as Sale).shop,
    });
  });

  it("keep field aggregates changed in place through a restore", async () => {
    for (const aggregate of ["sum", "max"] as const) {
      const job = defineJob(`${aggregate}-snapshots`, (env) => {
        const keyed = env.fromCollection<Sale>([]).keyBy((s) => s.shop);
        (aggregate === "sum" ? keyed.sum("amount") : keyed.max("amount")).name("agg").discard();
      });
      const read = await checkSnapshotAndRestore({
        job,
        operator: "agg",
        before: saleSteps(0, 30),
        after: saleSteps(30, 80),
        keyOfOutput: (s) => (s as Sale).shop,
      });
      // Independently: shop0's sum at the mark is the sum of its amounts among the first 30 sales.
      if (aggregate === "sum") {
        const sales = saleSteps(0, 30).map((s) => (s as { record: Sale }).record);
        const shop0 = sales.filter((s) => s.shop === "shop0").reduce((n, s) => n + s.amount, 0);
        const entry = read.find((e) => e.key === "shop0");
        assert.ok(entry !== undefined);
        assert.equal((entry.value as { value: number }).value, shop0);
      }
    }
  });

  it("snapshot only what changed after a completed checkpoint, for a rolling sum", async () => {
    const job = defineJob("sum-incremental", (env) => {
      env
        .fromCollection<Sale>([])
        .keyBy((s) => s.shop)
        .sum("amount")
        .name("agg")
        .discard();
    });
    const harness = await OperatorHarness.of(job, "agg").open();
    for (const step of saleSteps(0, 30)) harness.record((step as { record: Sale }).record);
    readInChunks(harness.snapshot(1, "full"), 5);
    await harness.operator.notifyCheckpointComplete?.(1);
    harness.record({ shop: "shop3", amount: 5, note: "x" });
    harness.record({ shop: "shop5", amount: 5, note: "y" });
    const delta = readInChunks(harness.snapshot(2, "incremental"), 5);
    assert.deepEqual(delta.map((e) => e.key).sort(), ["shop3", "shop5"]);
    assert.deepEqual(plain(delta), plain(harness.state().filter((e) => e.key === "shop3" || e.key === "shop5")));
  });
});

describe("checkpoint notifications", () => {
  it("reach user functions and sink writers that listen, in order, and name a failing one", async () => {
    const calls: string[] = [];
    const job = defineJob("notify", (env) => {
      env
        .fromCollection<number>([])
        .map({
          map: (n: number) => n,
          notifyCheckpointComplete: (id: number) => void calls.push(`map complete ${id}`),
          notifyCheckpointAborted: (id: number) => void calls.push(`map aborted ${id}`),
        })
        .name("m")
        .sinkTo({
          createWriter: (): SinkWriter<number> => ({
            write() {},
            notifyCheckpointComplete: async (id) => void calls.push(`sink complete ${id}`),
            notifyCheckpointAborted: (id) => {
              if (id === 9) throw new Error("rollback failed");
              calls.push(`sink aborted ${id}`);
            },
          }),
        })
        .name("out");
    });
    const map = await OperatorHarness.of(job, "m").open();
    const sink = await OperatorHarness.of(job, "out").open();
    assert.equal(map.operator.snapshotState?.(1, "full"), undefined, "a map keeps no state");
    await map.operator.notifyCheckpointComplete?.(1);
    await map.operator.notifyCheckpointAborted?.(2);
    await sink.operator.notifyCheckpointComplete?.(1);
    await sink.operator.notifyCheckpointAborted?.(2);
    assert.deepEqual(calls, ["map complete 1", "map aborted 2", "sink complete 1", "sink aborted 2"]);
    await assert.rejects(
      async () => sink.operator.notifyCheckpointAborted?.(9),
      (error: Error & { code?: string }) =>
        error.code === "USER_FUNCTION_FAILED" && /notifyCheckpointAborted 9/.test(error.message),
    );
  });

  it("refuse keyed state for an operator that keeps none", async () => {
    const job = defineJob("stateless", (env) => {
      env
        .fromCollection<number>([])
        .map((n) => n)
        .name("m")
        .discard();
    });
    const map = OperatorHarness.of(job, "m");
    await assert.rejects(
      async () =>
        map.operator.restoreState?.({ keyed: [{ keyGroup: 0, state: "x", key: 1, value: 1 }], operatorState: {} }),
      (error: Error & { code?: string }) => error.code === "STATE_RESTORE_MISMATCH",
    );
    await map.operator.restoreState?.({ keyed: [], operatorState: {} });
  });
});
