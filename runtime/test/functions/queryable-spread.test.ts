import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import {
  execute,
  type JobResult,
  queryClient,
  runNode,
  type StateQueryAnswer,
  type StateQueryClient,
  StateQueryError,
} from "../../src/index.js";
import { finals } from "../fixtures/queryable-job.js";
import { countSink } from "../fixtures/queryable-spread-job.js";
import { type NatsServerHandle, startNatsServer } from "../helpers/nats-server.js";
import { type Count, counter } from "./function-types.js";

const SPREAD_JOB = fileURLToPath(new URL("../fixtures/queryable-spread-job.js", import.meta.url));
const FINALS = new Map([...finals()].map(([key, { sum }]) => [key, sum]));

let dir: string;
const releases: Array<() => Promise<void>> = [];
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "kf-queryable-spread-"));
});
after(async () => {
  for (const release of releases) await release().catch(() => {});
  await rm(dir, { recursive: true, force: true });
  delete process.env.KF_QUERY_HOLD_FILE;
});

/** The job's source holds it open after its input until `release` (kept for `after`, should a test fail first). */
function hold(name: string): () => Promise<void> {
  const file = path.join(dir, `${name}.release`);
  process.env.KF_QUERY_HOLD_FILE = file;
  const release = () => writeFile(file, "");
  releases.push(release);
  return release;
}

/** Asks until an answer comes; retries what says it may be retried (a shard still starting). */
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

type CounterAnswer = StateQueryAnswer<{ count?: number }>;

/**
 * Queries every key's counter, all keys at once, until each reached its final count, checking
 * that no answer is below the one before it; returns each key's answers and last answer.
 */
async function watchAll(client: StateQueryClient): Promise<Map<string, { seen: number[]; last: CounterAnswer }>> {
  const deadline = Date.now() + 20_000;
  const watched = await Promise.all(
    [...FINALS].map(async ([key, expected]) => {
      const seen: number[] = [];
      for (;;) {
        const answer = await ask(() => client.query(counter, key));
        const count = answer.found ? (answer.state.count ?? 0) : 0;
        const before = seen.at(-1);
        if (before !== undefined) assert.ok(count >= before, `${key}: ${count} after ${before}`);
        seen.push(count);
        assert.ok(count <= expected, `${key}: ${count} beyond ${expected}`);
        if (count === expected) return [key, { seen, last: answer }] as const;
        assert.ok(Date.now() < deadline, `${key} stayed at ${count}, expected ${expected}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }),
  );
  const all = new Map(watched);
  assert.ok(
    [...all.values()].some(({ seen }) => seen.some((v) => v > 0 && v < (FINALS.get("k0") ?? 0))),
    "some answer came in the middle of the input",
  );
  return all;
}

/** Per key, the highest count its egress carried (the counter only goes up). */
function lastEgress(counts: readonly Count[]): Map<string, number> {
  const last = new Map<string, number>();
  for (const c of counts) last.set(c.id, Math.max(last.get(c.id) ?? 0, c.count));
  return last;
}

describe("queryable state of per-key functions spread over threads and nodes", () => {
  it("on 2 worker threads: each key answered by the thread owning it, never decreasing, the last answer its final egress", async () => {
    const release = hold("workers");
    let onClient: (client: StateQueryClient) => void = () => {};
    const client = new Promise<StateQueryClient>((resolve) => {
      onClient = resolve;
    });
    const running = execute(SPREAD_JOB, { workers: 2, parallelism: 2, onQueryable: onClient });
    running.catch(() => {});
    const c = await Promise.race([client, running.then((): never => assert.fail("ended before onQueryable"))]);
    const watched = await watchAll(c);
    const threads = new Set<number>();
    for (const [key, { last }] of watched) {
      assert.ok(last.found, key);
      assert.equal(last.origin.uid, "fns");
      assert.equal(last.origin.thread, last.origin.shard, `${key}: shard i runs on worker thread i`);
      threads.add(last.origin.thread);
    }
    assert.deepEqual([...threads].sort(), [0, 1], "keys owned by each thread answered");
    await release();
    const result: JobResult = await running;
    const egress = lastEgress(result.get(countSink));
    for (const [key, { last }] of watched) assert.equal(egress.get(key), last.found ? last.state.count : -1, key);
  });

  describe("on a static cluster of two nodes", () => {
    let server: NatsServerHandle;
    before(async () => {
      server = await startNatsServer({ jetstream: false });
    });
    after(async () => {
      await server?.stop();
    });

    it("each key answered by the node owning it, never decreasing, the last answer its final egress", async () => {
      const release = hold("cluster");
      const jobId = `qs${Date.now()}`;
      const nodes = [0, 1].map((node) =>
        runNode({ natsUrl: server.url, job: SPREAD_JOB, node, nodes: 2, parallelism: 2, jobId }),
      );
      for (const node of nodes) node.catch(() => {});
      const client = await queryClient({ natsUrl: server.url, job: jobId, timeoutMs: 3_000 });
      let watched: Awaited<ReturnType<typeof watchAll>>;
      try {
        watched = await watchAll(client);
        const owners = new Set<number>();
        for (const [key, { last }] of watched) {
          assert.ok(last.found, key);
          assert.equal(last.origin.node, last.origin.shard % 2, `${key}: shard i runs on node i mod 2`);
          owners.add(last.origin.node);
        }
        assert.deepEqual([...owners].sort(), [0, 1], "keys owned by each node answered");
      } finally {
        await client.close();
        await release();
      }
      const results = await Promise.all(nodes);
      const egress = lastEgress(results.flatMap((r) => Object.values(r.collected.counts ?? {}).flat()) as Count[]);
      for (const [key, { last }] of watched) assert.equal(egress.get(key), last.found ? last.state.count : -1, key);
    });
  });
});
