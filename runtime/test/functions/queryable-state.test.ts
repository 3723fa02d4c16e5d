import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { FunctionStateOf } from "@keyflow/functions-sdk";
import { valueState } from "@keyflow/functions-sdk";
import {
  execute,
  type JobResult,
  queryClient,
  runNode,
  SimulatedClock,
  type StateQueryAnswer,
  type StateQueryClient,
  StateQueryError,
} from "../../src/index.js";
import { KeyedStateBackend } from "../../src/state/keyed-state-backend.js";
import { countSink, finals, KEYS, queryableJob, sumSink, tally } from "../fixtures/queryable-job.js";
import { type NatsServerHandle, startNatsServer } from "../helpers/nats-server.js";
import { counter } from "./function-types.js";

const JOB_MODULE = fileURLToPath(new URL("../fixtures/queryable-job.js", import.meta.url));
const FINALS = finals();
const KEY_NAMES = [...FINALS.keys()];

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "kf-queryable-"));
});
after(async () => {
  for (const release of releases) await release().catch(() => {});
  await rm(dir, { recursive: true, force: true });
  delete process.env.KF_QUERY_HOLD_FILE;
});

/** A fresh hold file: the job's source holds it open (after its input) until the file exists. */
function holdFile(name: string): { release: () => Promise<void> } {
  const file = path.join(dir, `${name}-${Date.now()}.release`);
  process.env.KF_QUERY_HOLD_FILE = file;
  return { release: () => writeFile(file, "") };
}

/**
 * Starts the job with a queryable-state client; should the test fail before it releases the
 * hold, the release in `after` lets the job end.
 */
async function start(
  hold: { release: () => Promise<void> },
  job: () => Parameters<typeof execute>[0],
  options: { workers: number; parallelism: number },
): Promise<{ running: Promise<JobResult>; c: StateQueryClient }> {
  releases.push(hold.release);
  let onClient: (client: StateQueryClient) => void = () => {};
  const client = new Promise<StateQueryClient>((resolve) => {
    onClient = resolve;
  });
  const running = execute(job(), { ...options, onQueryable: onClient });
  running.catch(() => {});
  return { running, c: await Promise.race([client, running.then(() => assert.fail("ended before onQueryable"))]) };
}
const releases: Array<() => Promise<void>> = [];

/** Asks until an answer comes; retries errors that say so (a job still starting). */
async function ask<T>(query: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await query();
    } catch (error) {
      if (!(error instanceof StateQueryError) || !error.retriable || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** Queries `key`'s counter until it reaches `expected`, checking that it never goes down; returns the answers seen. */
async function watchCounter(client: StateQueryClient, key: string, expected: number): Promise<number[]> {
  const seen: number[] = [];
  const deadline = Date.now() + 20_000;
  for (;;) {
    const answer = await ask(() => client.query(counter, key));
    const count = answer.found ? (answer.state.count ?? 0) : 0;
    const last = seen.at(-1);
    if (last !== undefined) assert.ok(count >= last, `${key}: ${count} after ${last}`);
    seen.push(count);
    if (count === expected) return seen;
    assert.ok(count < expected, `${key}: ${count} beyond ${expected}`);
    assert.ok(Date.now() < deadline, `${key} stayed at ${count}, expected ${expected}`);
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
}

/** Per key, the last count a collect sink got. */
function lastCounts(result: JobResult): Map<string, number> {
  const last = new Map<string, number>();
  for (const c of result.get(countSink)) last.set(c.id, c.count);
  return last;
}

describe("queryable state", () => {
  it("reads a counter while the job runs on one thread: answers never decrease, and the last equals the last egress", async () => {
    const hold = holdFile("one-thread");
    const { running, c } = await start(hold, () => queryableJob(2), { workers: 0, parallelism: 2 });
    const k3 = FINALS.get("k3")?.sum as number;
    const seen = await watchCounter(c, "k3", k3);
    assert.ok(seen.length >= 2, `queried while counting: ${seen.join(", ")}`);
    assert.ok(
      seen.some((v) => v > 0 && v < k3),
      `an answer in the middle of the input: ${seen.join(", ")}`,
    );
    // Every key is answered by the shard owning it: both shards of the functions operator answer.
    const shards = new Set<number>();
    for (const key of KEY_NAMES) {
      const answer = await c.query(counter, key);
      assert.ok(answer.found);
      shards.add(answer.origin.shard);
      assert.equal(answer.origin.uid, "fns");
      assert.equal(answer.origin.functionType, "test/counter");
      // Typed from the function type: FunctionStateOf<typeof counter> is { count?: number }.
      const state: FunctionStateOf<typeof counter> = answer.state;
      assert.deepEqual(state, { count: FINALS.get(key)?.sum });
    }
    assert.deepEqual([...shards].sort(), [0, 1]);
    await hold.release();
    const result = await running;
    const last = lastCounts(result);
    for (const [key, { sum }] of FINALS) assert.equal(last.get(key), sum, `${key}'s last egress`);
    await assert.rejects(c.query(counter, "k3"), { code: "QUERY_SHARD_UNAVAILABLE" }, "the job ended");
  });

  it("answers 'no state' for a key without state, names the known types for an unknown one, and reads a keyed operator and a machine", async () => {
    const hold = holdFile("answers");
    const { running, c } = await start(hold, () => queryableJob(2), { workers: 0, parallelism: 2 });
    await watchCounter(c, "k0", FINALS.get("k0")?.sum as number);

    const none = await c.query(counter, "nobody");
    assert.equal(none.found, false);
    assert.ok(!("state" in none), "no state is not an empty object");
    assert.equal(none.origin.key, "nobody");

    await assert.rejects(c.query("test/nothing", "k0"), (error: StateQueryError) => {
      assert.equal(error.code, "QUERY_FUNCTION_TYPE_UNKNOWN");
      assert.equal(error.retriable, false);
      assert.match(
        error.message,
        /no function type "test\/nothing" in job "queryable"; known types: test\/counter, test\/tally/,
      );
      assert.deepEqual(error.details.known, ["test/counter", "test/tally"]);
      return true;
    });
    await assert.rejects(c.queryKeyed("nope", "k0"), { code: "QUERY_OPERATOR_UNKNOWN" });

    // A keyed process operator's states by name, a map state as its Map.
    const sums = await c.queryKeyed("sums", "k1");
    assert.ok(sums.found);
    const { sum, records } = FINALS.get("k1") as { sum: number; records: number };
    assert.equal(sums.state.sum, sum);
    const byN = sums.state.byN as Map<number, number>;
    assert.ok(byN instanceof Map);
    assert.equal(
      [...byN.values()].reduce((a, b) => a + b, 0),
      records,
    );
    assert.equal(
      [...byN].reduce((a, [n, times]) => a + n * times, 0),
      sum,
    );

    // A machine function: its inspection, typed by the machine.
    const machine: StateQueryAnswer<FunctionStateOf<typeof tally>> = await c.query(tally, "k2");
    assert.ok(machine.found);
    assert.equal(machine.state.value, "big");
    assert.deepEqual(machine.state.context, { n: FINALS.get("k2")?.records });
    assert.equal(machine.state.status, "active");
    const fresh = await c.query(tally, "k-none");
    assert.equal(fresh.found, false);

    await hold.release();
    await running;
  });

  it("routes each query to the worker thread owning the key (2 workers) while the job runs", async () => {
    const hold = holdFile("workers");
    const { running, c } = await start(hold, () => JOB_MODULE, { workers: 2, parallelism: 2 });
    const seen = await watchCounter(c, "k5", FINALS.get("k5")?.sum as number);
    assert.ok(seen.length >= 2, `queried while counting: ${seen.join(", ")}`);
    // The keyed sums run at parallelism 2: shard i on worker thread i.
    const threads = new Set<number>();
    for (const key of KEY_NAMES) {
      const answer = await ask(() => c.queryKeyed("sums", key));
      assert.ok(answer.found, key);
      assert.equal(answer.state.sum, FINALS.get(key)?.sum, key);
      assert.equal(answer.origin.thread, answer.origin.shard);
      threads.add(answer.origin.thread);
      const count = await c.query(counter, key);
      assert.ok(count.found);
      assert.equal(count.state.count, FINALS.get(key)?.sum);
      assert.equal(count.origin.thread, 0, "the functions operator runs at parallelism 1, on thread 0");
    }
    assert.deepEqual([...threads].sort(), [0, 1]);
    assert.equal((await c.query(counter, "nobody")).found, false);
    await assert.rejects(c.query("test/nothing", "k0"), { code: "QUERY_FUNCTION_TYPE_UNKNOWN" });
    await hold.release();
    const result = await running;
    const last = lastCounts(result);
    for (const [key, { sum }] of FINALS) assert.equal(last.get(key), sum);
    const sums = new Map(result.get(sumSink).map((s) => [s.key, s.sum]));
    for (const [key, { sum }] of FINALS) assert.equal(sums.get(key), sum);
  });

  it("does not restart a TTL on read (onReadAndWrite) nor remove an expired value", () => {
    const clock = new SimulatedClock(0);
    const backend = new KeyedStateBackend(128, clock);
    const { v } = backend.handles({ v: valueState<number>({ ttl: { ttlMs: 100, update: "onReadAndWrite" } }) });
    backend.currentKey = "a";
    v.update(7);
    clock.advance(60);
    assert.equal(backend.peek("v", "a"), 7);
    clock.advance(50); // 110: expired at 100, since the peek at 60 did not restart it
    assert.equal(backend.peek("v", "a"), undefined);
    assert.equal(v.value(), undefined);
    // A handle's read at 60 would have restarted it: the same steps through the handle keep it.
    backend.currentKey = "b";
    v.update(8);
    clock.advance(60);
    assert.equal(v.value(), 8);
    clock.advance(50);
    assert.equal(v.value(), 8);
  });
});

describe("queryable state on a static cluster of two nodes", () => {
  let server: NatsServerHandle;
  before(async () => {
    server = await startNatsServer({ jetstream: false });
  });
  after(async () => {
    await server?.stop();
  });

  it("answers each key from the node owning it, through NATS request/reply", async () => {
    const hold = holdFile("cluster");
    const jobId = `q${Date.now()}`;
    const job = queryableJob(1);
    const nodes = [0, 1].map((node) => runNode({ natsUrl: server.url, job, node, nodes: 2, parallelism: 2, jobId }));
    const client = await queryClient({ natsUrl: server.url, job: jobId, timeoutMs: 3_000 });
    try {
      assert.equal(client.subject, `kf.${jobId}.query`);
      await watchCounter(client, "k7", FINALS.get("k7")?.sum as number);
      const owners = new Set<number>();
      for (const key of KEY_NAMES) {
        const answer = await ask(() => client.queryKeyed("sums", key));
        assert.ok(answer.found, key);
        assert.equal(answer.state.sum, FINALS.get(key)?.sum, key);
        assert.equal(answer.origin.node, answer.origin.shard % 2, "shard i runs on node i mod 2");
        owners.add(answer.origin.node);
        const count = await client.query(counter, key);
        assert.ok(count.found);
        assert.deepEqual(count.state, { count: FINALS.get(key)?.sum });
        assert.equal(count.origin.node, 0);
      }
      assert.deepEqual([...owners].sort(), [0, 1], "both nodes answered for their keys");
      const machine = await client.query(tally, "k4");
      assert.ok(machine.found);
      assert.deepEqual(machine.state.context, { n: FINALS.get("k4")?.records });
      assert.equal((await client.query(counter, "nobody")).found, false);
      await assert.rejects(client.query("test/nothing", "k1"), (error: StateQueryError) => {
        assert.equal(error.code, "QUERY_FUNCTION_TYPE_UNKNOWN");
        assert.match(error.message, /known types: test\/counter, test\/tally/);
        return true;
      });
    } finally {
      await client.close();
      await hold.release();
    }
    const results = await Promise.all(nodes);
    const egress = results.flatMap((r) => Object.values(r.collected.counts ?? {}).flat()) as Array<{
      id: string;
      count: number;
    }>;
    const last = new Map(egress.map((c) => [c.id, c.count]));
    for (const [key, { sum }] of FINALS) assert.equal(last.get(key), sum);
  });

  it("says a job that no node runs is unreachable", async () => {
    const client = await queryClient({ natsUrl: server.url, job: "no-such-job", timeoutMs: 1_000 });
    try {
      await assert.rejects(client.query(counter, "k1"), (error: StateQueryError) => {
        assert.equal(error.code, "QUERY_JOB_UNREACHABLE");
        assert.equal(error.retriable, true);
        assert.match(error.message, /no-such-job/);
        return true;
      });
    } finally {
      await client.close();
    }
  });
});

// Keeps KEYS in use for readers: ten keys, k0..k9.
assert.equal(KEY_NAMES.length, KEYS);
