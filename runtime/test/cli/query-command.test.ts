import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { finals } from "../fixtures/queryable-job.js";
import { type NatsServerHandle, startNatsServer } from "../helpers/nats-server.js";
import { exitWithin, killAll, spawnKeyflow } from "./keyflow-process.js";

const JOB = fileURLToPath(new URL("../fixtures/queryable-job.js", import.meta.url));
const FINALS = finals();

/** Runs `keyflow query ...args` to its end. */
async function query(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnKeyflow(["query", JOB, ...args]);
  const { code } = await exitWithin(child, 15_000);
  return { code, stdout: child.stdout(), stderr: child.stderr() };
}

/** Queries `key`'s counter until it is `expected`; the answers on the way never decrease. */
async function untilCount(args: string[], key: string, expected: number): Promise<void> {
  let last = -1;
  for (let attempt = 0; ; attempt++) {
    const answer = await query(["test/counter", key, ...args]);
    if (answer.code === 0) {
      const count = (JSON.parse(answer.stdout) as { count: number }).count;
      assert.ok(count >= last, `${count} after ${last}`);
      last = count;
      if (count === expected) return;
    } else {
      // Before the job's first record for the key, or while it starts.
      assert.ok(
        answer.code === 3 || /not running|not started|did not answer|no job is running|no node/.test(answer.stderr),
        answer.stderr,
      );
    }
    assert.ok(attempt < 40, `${key} stayed at ${last}, expected ${expected}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("keyflow query", () => {
  let dir: string;
  let server: NatsServerHandle;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "kf-query-cli-"));
    process.env.KEYFLOW_RUN_DIR = path.join(dir, "runs");
    server = await startNatsServer({ jetstream: false });
  });
  after(async () => {
    await killAll();
    await server?.stop();
    delete process.env.KEYFLOW_RUN_DIR;
    delete process.env.KF_QUERY_HOLD_FILE;
    await rm(dir, { recursive: true, force: true });
  });

  it("asks a running `keyflow run`: the state as JSON, exit 3 for a key without state, 1 naming the known types", async () => {
    const hold = path.join(dir, "run.release");
    process.env.KF_QUERY_HOLD_FILE = hold;
    const run = spawnKeyflow(["run", JOB, "--workers", "0"]);
    try {
      await untilCount([], "k3", FINALS.get("k3")?.sum as number);
      const machine = await query(["test/tally", "k3"]);
      assert.equal(machine.code, 0, machine.stderr);
      const inspected = JSON.parse(machine.stdout) as { value: string; context: { n: number }; status: string };
      assert.deepEqual(
        { value: inspected.value, context: inspected.context, status: inspected.status },
        { value: "big", context: { n: FINALS.get("k3")?.records as number }, status: "active" },
      );

      const none = await query(["test/counter", "nobody"]);
      assert.equal(none.code, 3);
      assert.equal(none.stdout, "");
      assert.match(none.stderr, /no state for test\/counter nobody/);

      const unknown = await query(["test/nothing", "k3"]);
      assert.equal(unknown.code, 1);
      assert.match(
        unknown.stderr,
        /no function type "test\/nothing" in job "queryable"; known types: test\/counter, test\/tally/,
      );
    } finally {
      await writeFile(hold, "");
    }
    const exit = await exitWithin(run, 15_000);
    assert.equal(exit.code, 0, run.stderr());
    const gone = await query(["test/counter", "k3"]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /no job is running with job id "queryable" here/);
  });

  it("asks a two-node cluster with --nats", async () => {
    const hold = path.join(dir, "cluster.release");
    process.env.KF_QUERY_HOLD_FILE = hold;
    const jobId = `qcli${Date.now()}`;
    const nodes = [0, 1].map((node) =>
      spawnKeyflow([
        "node",
        ...["--nats", server.url, "--job", JOB, "--node", String(node), "--nodes", "2"],
        ...["--parallelism", "2", "--job-id", jobId],
      ]),
    );
    const nats = ["--nats", server.url, "--job-id", jobId];
    try {
      await untilCount(nats, "k8", FINALS.get("k8")?.sum as number);
      const none = await query(["test/counter", "nobody", ...nats]);
      assert.equal(none.code, 3);
      const unknown = await query(["test/nothing", "k8", ...nats]);
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /known types: test\/counter, test\/tally/);
    } finally {
      await writeFile(hold, "");
    }
    for (const node of nodes) assert.equal((await exitWithin(node, 20_000)).code, 0, node.stderr());
    const gone = await query(["test/counter", "k8", ...nats, "--timeout", "1000"]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, new RegExp(`no node of job "${jobId}" (serves queries|answered)`));
  });
});
