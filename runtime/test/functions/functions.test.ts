import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { collectSink, defineJob, SeededRandom } from "@keyflow/functions-sdk";
import { execute, shardOfKey } from "../../src/index.js";
import {
  type Count,
  type Countdown,
  countdown,
  countdowns,
  counter,
  counts,
  ping,
  pong,
  type Rally,
  rallies,
  root,
  squarer,
  type Total,
  totals,
} from "./function-types.js";

const RECORDS = 10_000;
const KEYS = 97;

interface Add {
  readonly key: string;
  readonly n: number;
}

function counterJob(sink = collectSink<Count>("counts")) {
  return {
    sink,
    job: defineJob("counters", (env) => {
      env
        .generate<Add>({
          count: RECORDS,
          seed: 3,
          make: (i, random) => ({ key: `k${random.nextInt(KEYS)}`, n: i % 7 }),
        })
        .toFunctions({
          functions: [counter],
          route: (a) => ({ to: counter.address(a.key), message: { kind: "add", n: a.n } }),
        })
        .uid("counters")
        .egress(counts)
        .collect(sink);
    }),
  };
}

/** Final count per key, from a plain loop over the same generator (reader i of p makes records i, i+p, …). */
function expectedCounts(parallelism: number): Map<string, number> {
  const expected = new Map<string, number>();
  for (let shard = 0; shard < parallelism; shard++) {
    const random = new SeededRandom(3 + shard);
    for (let i = shard; i < RECORDS; i += parallelism) {
      const key = `k${random.nextInt(KEYS)}`;
      expected.set(key, (expected.get(key) ?? 0) + (i % 7));
    }
  }
  return expected;
}

function lastPerKey(records: readonly Count[]): Map<string, number> {
  const last = new Map<string, number>();
  for (const r of records) last.set(r.id, Math.max(last.get(r.id) ?? 0, r.count));
  return last;
}

const sorted = <T>(values: readonly T[]) => values.map((v) => JSON.stringify(v)).sort();

describe("per-key functions", () => {
  for (const parallelism of [1, 3]) {
    it(`count per key exactly at parallelism ${parallelism}`, async () => {
      const { job, sink } = counterJob();
      const result = await execute(job, { parallelism, workers: 0 });
      const records = result.get(sink);
      assert.equal(records.length, RECORDS, "one egress value per message");
      assert.deepEqual(lastPerKey(records), expectedCounts(parallelism));
    });
  }

  it("keep each key's messages in order: every key's counts only grow", async () => {
    const { job, sink } = counterJob();
    const result = await execute(job, { parallelism: 3, workers: 0 });
    const last = new Map<string, number>();
    for (const r of result.get(sink)) {
      assert.ok(r.count >= (last.get(r.id) ?? 0), `${r.id}: ${r.count} after ${last.get(r.id)}`);
      last.set(r.id, r.count);
    }
  });

  it("play ping-pong between two function types, with their state apart under one id", async () => {
    const sink = collectSink<Rally>("rallies");
    const ids = Array.from({ length: 20 }, (_, i) => `player-${i}`);
    const job = defineJob("ping-pong", (env) => {
      env
        .fromCollection(ids)
        .toFunctions({
          functions: [ping, pong],
          route: (id) => ({ to: ping.address(id), message: { kind: "start", rounds: 50 } }),
        })
        .egress(rallies)
        .collect(sink);
    });
    for (const parallelism of [1, 4]) {
      const result = await execute(job, { parallelism, workers: 0 });
      const byId = new Map<string, Rally[]>();
      for (const r of result.get(sink)) byId.set(r.id, [...(byId.get(r.id) ?? []), r]);
      assert.equal(byId.size, ids.length);
      for (const [id, records] of byId) {
        // ping: 1 start + 50 pongs; pong: 50 pings. Each type counted its own messages.
        assert.deepEqual(
          sorted(records),
          sorted([
            { id, pings: -1, pongs: 50 },
            { id, pings: 51, pongs: -1 },
          ]),
        );
      }
    }
  });

  it("let a function message itself many times", async () => {
    const sink = collectSink<Countdown>("countdowns");
    const job = defineJob("countdown", (env) => {
      env
        .fromCollection(["a", "b", "c", "d", "e"])
        .toFunctions({ functions: [countdown], route: (id) => ({ to: countdown.address(id), message: { n: 5_000 } }) })
        .egress(countdowns)
        .collect(sink);
    });
    const result = await execute(job, { parallelism: 2, workers: 0 });
    assert.deepEqual(sorted(result.get(sink)), sorted(["a", "b", "c", "d", "e"].map((id) => ({ id, handled: 5_001 }))));
  });

  it("fan out to many keys on every shard and sum their answers exactly", async () => {
    const sink = collectSink<Total>("totals");
    const workers = 300;
    const job = defineJob("fan-out", (env) => {
      env
        .fromCollection(["r1", "r2", "r3"])
        .toFunctions({
          functions: [root, squarer],
          route: (id) => ({ to: root.address(id), message: { kind: "start", workers } }),
        })
        .egress(totals)
        .collect(sink);
    });
    const shards = new Set(Array.from({ length: workers }, (_, i) => shardOfKey(`r1/w${i + 1}`, 128, 3)));
    assert.equal(shards.size, 3, "the workers spread over all three shards");
    const expected = (workers * (workers + 1) * (2 * workers + 1)) / 6;
    for (const parallelism of [1, 3]) {
      const result = await execute(job, { parallelism, workers: 0 });
      assert.deepEqual(
        sorted(result.get(sink)),
        sorted(["r1", "r2", "r3"].map((id) => ({ id, sum: expected, replies: workers }))),
      );
    }
  });

  it("mix with dataflow operators before and after, from several ingress streams", async () => {
    const sink = collectSink<string>("lines");
    const job = defineJob("mixed", (env) => {
      const adds = env.fromCollection([1, 2, 3, 4, 5, 6]).map((n) => ({ key: `k${n % 2}`, n: n * 10 }));
      const resets = env.fromCollection(["k9"]);
      const functions = adds.toFunctions({
        functions: [counter],
        route: (a) => ({ to: counter.address(a.key), message: { kind: "add", n: a.n } }),
      });
      functions.ingress(resets, (key) => ({ to: counter.address(key), message: { kind: "add", n: 1 } }));
      functions
        .egress(counts)
        .filter((c) => c.count >= 60 || c.id === "k9")
        .map((c) => `${c.id}=${c.count}`)
        .collect(sink);
    });
    for (const parallelism of [1, 2]) {
      const result = await execute(job, { parallelism, workers: 0 });
      // k1: 10 + 30 + 50 = 90 (after 40: below 60); k0: 20 + 40 + 60 = 120 (60 after two).
      assert.deepEqual(result.get(sink).sort(), ["k0=120", "k0=60", "k1=90", "k9=1"]);
    }
  });

  it("give identical results at parallelism 1 and 3", async () => {
    const sink = collectSink<Total>("totals");
    const job = defineJob("fan-out and ping-pong", (env) => {
      const ids = env.fromCollection(Array.from({ length: 10 }, (_, i) => `id${i}`));
      const functions = ids.toFunctions({
        functions: [root, squarer, ping, pong],
        route: (id) => ({ to: root.address(id), message: { kind: "start", workers: 40 } }),
      });
      functions.ingress(ids, (id) => ({ to: ping.address(id), message: { kind: "start", rounds: 5 } }));
      functions.egress(totals).collect(sink);
      functions
        .egress(rallies)
        .map((r) => ({ id: r.id, sum: r.pings, replies: r.pongs }))
        .collect(sink);
    });
    const p1 = await execute(job, { parallelism: 1, workers: 0 });
    const p3 = await execute(job, { parallelism: 3, workers: 0 });
    assert.equal(p1.get(sink).length, 30);
    assert.deepEqual(sorted(p3.get(sink)), sorted(p1.get(sink)));
  });
});
