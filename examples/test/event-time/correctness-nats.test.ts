import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { CollectSink } from "@keyflow/functions-sdk";
import { runNode } from "@keyflow/runtime";
import { type NatsServerHandle, startNatsServer } from "@keyflow/runtime/testing";
import { checkAgainstReference, expectedResults } from "./correctness-check.js";
import {
  type CorrectnessCase,
  correctnessJob,
  DROPPING_OPERATOR,
  EVENTS,
  processed,
  SHAPES,
} from "./correctness-job.js";

type Collected = Record<string, Record<string, unknown[]>>;
/** The keyflow CLI, next to the runtime's entry point. */
const CLI = fileURLToPath(new URL("./cli/main.js", import.meta.resolve("@keyflow/runtime")));
const NODE_JOB = fileURLToPath(new URL("./correctness-node-job.js", import.meta.url));

/**
 * The same comparison on a static cluster of two nodes over NATS: the source shard on node 0,
 * window shards 0 and 2 with it, 1 and 3 on node 1, so half the keys cross NATS with their
 * watermarks. The nodes run in this process, each with its own NATS connection, and once as two
 * `keyflow node` processes.
 */
describe("event-time windows against the batch reference (two nodes over NATS)", () => {
  let server: NatsServerHandle;
  before(async () => {
    server = await startNatsServer({ jetstream: false });
  });
  after(async () => {
    await server?.stop();
  });

  it("session windows, allowed lateness 1000 ms, parallelism 4, on two `keyflow node` processes", async () => {
    const c: CorrectnessCase = { shape: { kind: "session", gap: 300 }, latenessMs: 1_000, parallelism: 4 };
    const dir = await mkdtemp(path.join(os.tmpdir(), "kf-window-nodes-"));
    const jobId = `wcproc${Date.now()}`;
    const children: ChildProcess[] = [];
    try {
      const exits = [0, 1].map((node) => {
        const args = [CLI, "node", "--nats", server.url, "--job", NODE_JOB, "--node", String(node), "--nodes", "2"];
        args.push("--job-id", jobId, "--results", path.join(dir, `node-${node}.json`));
        const child = spawn(process.execPath, args, {
          env: { ...process.env, KEYFLOW_WINDOW_CASE: JSON.stringify(c) },
          stdio: ["ignore", "ignore", "pipe"],
        });
        children.push(child);
        let stderr = "";
        child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
        return new Promise<string>((resolve, reject) => {
          child.on("close", (code) => (code === 0 ? resolve(stderr) : reject(new Error(`node ${node}: ${stderr}`))));
        });
      });
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("the keyflow nodes did not finish within 30 s")), 30_000);
      });
      await Promise.race([Promise.all(exits), timeout]).finally(() => clearTimeout(timer));
      const nodes = await Promise.all(
        [0, 1].map(
          async (node) => JSON.parse(await readFile(path.join(dir, `node-${node}.json`), "utf8")) as Collected,
        ),
      );
      const get = <T>(sink: CollectSink<T>): T[] =>
        nodes.flatMap((n) => Object.values(n[sink.name] ?? {}).flat() as T[]);
      checkAgainstReference(get, EVENTS, c);
      assert.deepEqual(Object.keys(nodes[1]?.[processed.name] ?? {}).sort(), ["1", "3"]);
    } finally {
      for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
      await rm(dir, { recursive: true, force: true });
    }
  });

  for (const shape of SHAPES) {
    for (const latenessMs of [0, 1_000]) {
      const c: CorrectnessCase = { shape, latenessMs, parallelism: 4 };
      it(`${shape.kind} windows, allowed lateness ${latenessMs} ms, parallelism 4: identical results and late records`, async () => {
        const job = correctnessJob(EVENTS, c);
        const jobId = `wc${shape.kind}${latenessMs}t${Date.now()}`;
        const nodes = await Promise.all(
          [0, 1].map((node) => runNode({ natsUrl: server.url, job, node, nodes: 2, jobId })),
        );
        const get = <T>(sink: CollectSink<T>): T[] =>
          nodes.flatMap((n) => Object.values(n.collected[sink.name] ?? {}).flat() as T[]);
        checkAgainstReference(get, EVENTS, c);
        // Late records dropped and counted on both nodes add up to the reference's late records.
        const dropped = nodes.reduce((sum, n) => sum + (n.metrics[DROPPING_OPERATOR]?.lateRecordsDropped ?? 0), 0);
        assert.equal(dropped, expectedResults(EVENTS, c).reference.late.length);
        // Node 1 hosts window shards 1 and 3: their results came over NATS from the source on node 0.
        assert.deepEqual(Object.keys(nodes[1]?.collected[processed.name] ?? {}).sort(), ["1", "3"]);
        assert.ok(Object.values(nodes[1]?.collected[processed.name] ?? {}).every((records) => records.length > 0));
      });
    }
  }
});
