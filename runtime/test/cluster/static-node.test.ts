import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { ControlMessage } from "../../src/cluster/node-membership.js";
import { execute, type JobFailedError, runNode } from "../../src/index.js";
import { connectNats } from "../../src/transport/nats-connection.js";
import { exitWithin, killAll, runningCount, spawnKeyflow } from "../cli/keyflow-process.js";
import sumJob, { PAYMENTS, type Payment, REFUNDS, RULES, rules, sums } from "../fixtures/cluster-sum-job.js";
import { type NatsServerHandle, startNatsServer } from "../helpers/nats-server.js";

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
const SUM_JOB = fixture("cluster-sum-job.js");
const FAIL_JOB = fixture("cluster-fail-job.js");
const SLOW_JOB = fixture("cluster-slow-job.js");

type NodeResults = Record<string, Record<string, unknown[]>>;

/** Per key: how many rolling updates, and the last (final) sum. */
function finalsOf(records: Iterable<Payment>): Map<string, { count: number; last: number }> {
  const finals = new Map<string, { count: number; last: number }>();
  for (const record of records) {
    const seen = finals.get(record.key);
    finals.set(record.key, { count: (seen?.count ?? 0) + 1, last: record.amount });
  }
  return new Map([...finals].sort(([a], [b]) => a.localeCompare(b)));
}

describe("keyflow node: a static cluster of two processes", () => {
  let server: NatsServerHandle;
  let dir: string;

  before(async () => {
    server = await startNatsServer({ jetstream: false });
    dir = await mkdtemp(path.join(os.tmpdir(), "kf-static-node-"));
  });
  after(async () => {
    await killAll();
    await server?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  /**
   * Resolves once each of `nodes` announced itself on the job's control subject: the node then
   * runs its signal handlers and hears its peers. A fixed wait is not enough: on a loaded machine
   * a process was seen still loading after 1.5 s, so SIGTERM killed it before it could tell its
   * peer, which then waited out the join timeout.
   */
  async function announced(jobId: string, nodes: readonly number[]): Promise<void> {
    const link = await connectNats({ url: server.url, jobId });
    try {
      await new Promise<void>((resolve) => {
        const waiting = new Set(nodes);
        link.subscribeValues<ControlMessage>(link.subjects.control, (message) => {
          if (message.type === "status") waiting.delete(message.node);
          if (waiting.size === 0) resolve();
        });
      });
    } finally {
      await link.close();
    }
  }

  /** Both nodes of a job, with the same options; `perNode` adds options of one node. */
  function startNodes(job: string, perNode: (node: number) => string[] = () => [], jobId = `t${Date.now()}`) {
    return [0, 1].map((node) =>
      spawnKeyflow([
        "node",
        ...["--nats", server.url, "--job", job, "--node", String(node), "--nodes", "2"],
        ...["--parallelism", "4", "--job-id", jobId],
        ...perNode(node),
      ]),
    );
  }

  it("computes the same results as an embedded run, over a hash and a broadcast edge", async () => {
    const files = [0, 1].map((node) => path.join(dir, `results-${node}.json`));
    // Small batches, so hash edges carry many batches across nodes and credit runs out.
    const nodes = startNodes(SUM_JOB, (node) => ["--batch-size", "50", "--results", files[node] as string]);
    const exits = await Promise.all(nodes.map((node) => exitWithin(node, 20_000)));
    for (const [i, exit] of exits.entries()) {
      assert.deepEqual(exit, { code: 0, signal: null }, `node ${i} stderr: ${nodes[i]?.stderr()}`);
      assert.match(nodes[i]?.stderr() ?? "", new RegExp(`node ${i} of job "cluster sum" finished`));
    }
    const perNode = await Promise.all(
      files.map(async (file) => JSON.parse(await readFile(file, "utf8")) as NodeResults),
    );

    // Shard i of every operator runs on node i mod 2.
    assert.deepEqual(Object.keys(perNode[0]?.sums ?? {}).sort(), ["0", "2"]);
    assert.deepEqual(Object.keys(perNode[1]?.sums ?? {}).sort(), ["1", "3"]);

    const embedded = await execute(sumJob, { parallelism: 4, batchSize: 50 });
    const clusterSums = perNode.flatMap((n) => Object.values(n.sums ?? {}).flat()) as Payment[];
    assert.equal(clusterSums.length, PAYMENTS + REFUNDS, "one rolling update per input record");
    assert.deepEqual(finalsOf(clusterSums), finalsOf(embedded.get(sums)));

    const clusterRules = perNode.flatMap((n) => Object.values(n.rules ?? {}));
    assert.equal(clusterRules.length, 4, "every shard of the broadcast consumer collected");
    for (const shardRules of clusterRules) assert.equal(shardRules.length, RULES, "every shard got every rule");
    assert.deepEqual(clusterRules.flat().sort(), [...embedded.get(rules)].sort());
    assert.equal(runningCount(), 0);
  });

  it("fails both nodes when a user function throws in one, naming operator, shard and record", async () => {
    const nodes = startNodes(FAIL_JOB);
    const exits = await Promise.all(nodes.map((node) => exitWithin(node, 20_000)));
    for (const [i, exit] of exits.entries()) {
      const stderr = nodes[i]?.stderr() ?? "";
      assert.equal(exit.code, 1, `node ${i} exit code; stderr: ${stderr}`);
      assert.equal(stderr.trim().split("\n").length, 1, `one line: ${stderr}`);
      assert.match(stderr, /operator "explode" \(shard explode#\d\) failed on record \{"i":1234,"key":"k10"\}/);
      assert.match(stderr, /payment 1234 is cursed/);
    }
    // Exactly one node saw the record; the other reports that node's failure.
    const peerReports = nodes.filter((node) => /node \d failed: /.test(node.stderr()));
    assert.equal(peerReports.length, 1, nodes.map((node) => node.stderr()).join(""));
  });

  it("cancels every node when one receives SIGTERM", async () => {
    const jobId = `cancel${Date.now()}`;
    const nodes = startNodes(SLOW_JOB, () => [], jobId);
    await announced(jobId, [0, 1]);
    assert.equal(runningCount(), 2, "both nodes still run the slow job");
    nodes[1]?.child.kill("SIGTERM");
    // As long as the failure test above allows: a loaded machine (the whole suite on 2 cores) was seen taking over 10 s.
    const exits = await Promise.all(nodes.map((node) => exitWithin(node, 20_000)));
    assert.deepEqual(
      exits.map((exit) => exit.code),
      [0, 0],
    );
    for (const node of nodes) assert.match(node.stderr(), /job cancelled/);
  });

  it("fails a node whose peer dies without a word, within the peer timeout", async () => {
    const jobId = `lost${Date.now()}`;
    const peer = spawnKeyflow([
      "node",
      ...["--nats", server.url, "--job", SLOW_JOB, "--node", "1", "--nodes", "2", "--parallelism", "4"],
      ...["--job-id", jobId],
    ]);
    const local = runNode({
      natsUrl: server.url,
      job: SLOW_JOB,
      node: 0,
      nodes: 2,
      parallelism: 4,
      jobId,
      peerTimeoutMs: 1_000,
    });
    const outcome = local.then(
      () => undefined,
      (error: unknown) => error as JobFailedError,
    );
    // Killed before it joined, the peer would be missing, not lost.
    await announced(jobId, [1]);
    peer.child.kill("SIGKILL");
    const started = performance.now();
    const error = await outcome;
    assert.ok(error !== undefined, "the node failed");
    assert.equal(error.code, "JOB_FAILED");
    assert.equal(error.reason.code, "CLUSTER_PEER_LOST");
    assert.match(error.message, /node 1 sent no status for \d+ ms/);
    assert.ok(performance.now() - started < 3_000, "failed within the peer timeout and a heartbeat");
  });

  it("gives up with the missing node's id when a peer never joins", async () => {
    const started = performance.now();
    const error = await runNode({
      natsUrl: server.url,
      job: SLOW_JOB,
      node: 0,
      nodes: 3,
      parallelism: 3,
      jobId: `alone${Date.now()}`,
      joinTimeoutMs: 400,
    }).then(
      () => undefined,
      (failure: unknown) => failure as JobFailedError,
    );
    assert.ok(error !== undefined, "the node failed instead of waiting forever");
    assert.equal(error.reason.code, "CLUSTER_PEERS_MISSING");
    assert.match(error.message, /nodes 1, 2 did not join within 400 ms/);
    assert.ok(performance.now() - started < 3_000);
  });

  it("refuses to run with a peer that computed another plan", async () => {
    const jobId = `mismatch${Date.now()}`;
    const common = { natsUrl: server.url, job: SUM_JOB, nodes: 2, jobId };
    const outcomes = await Promise.all(
      [runNode({ ...common, node: 0, parallelism: 4 }), runNode({ ...common, node: 1, parallelism: 2 })].map((run) =>
        run.then(
          () => undefined,
          (error: unknown) => error as JobFailedError,
        ),
      ),
    );
    for (const error of outcomes) {
      assert.ok(error !== undefined);
      // A node hears the other's status, or first its failure report about that status.
      assert.ok(["CLUSTER_PLAN_MISMATCH", "CLUSTER_PEER_FAILED"].includes(error.reason.code), error.message);
      assert.match(error.message, /runs a different plan/);
    }
  });
});
