import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { JobStatus } from "../../src/index.js";
import { exitWithin, killAll, spawnKeyflow } from "../cli/keyflow-process.js";
import { type NatsServerHandle, startNatsServer } from "../helpers/nats-server.js";

const SLOW_JOB = fileURLToPath(new URL("../fixtures/cluster-slow-job.js", import.meta.url));

describe("keyflow status --nats: a static cluster's status from node 0", () => {
  let server: NatsServerHandle;
  let dir: string;

  before(async () => {
    server = await startNatsServer({ jetstream: false });
    dir = await mkdtemp(join(tmpdir(), "kf-cluster-status-"));
  });
  after(async () => {
    await killAll();
    await server?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  async function status(jobId: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const asked = spawnKeyflow(["status", "--nats", server.url, "--job-id", jobId, "--timeout", "2000"]);
    const exit = await exitWithin(asked, 20_000);
    return { code: exit.code, stdout: asked.stdout(), stderr: asked.stderr() };
  }

  it("shows the coordinator's state and the checkpoints node 0 completed", async () => {
    const jobId = `status${Date.now()}`;
    const nodes = [0, 1].map((node) =>
      spawnKeyflow([
        ...["node", "--nats", server.url, "--job", SLOW_JOB, "--node", String(node), "--nodes", "2"],
        ...["--parallelism", "2", "--job-id", jobId, "--state-dir", join(dir, `state-${node}`)],
        ...["--checkpoint-interval", "100"],
      ]),
    );
    // Until node 0 answers with two completed checkpoints (starting two processes is slow on a busy machine).
    let shown: JobStatus | undefined;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const asked = await status(jobId);
      if (asked.code === 0) {
        shown = JSON.parse(asked.stdout) as JobStatus;
        if (shown.checkpoints.completed >= 2) break;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.ok(shown !== undefined, "node 0 answered");
    assert.equal(shown.job, "cluster slow");
    assert.equal(shown.state, "running");
    assert.equal(shown.runs, 1);
    assert.ok(["idle", "checkpointing"].includes(shown.coordinator), shown.coordinator);
    assert.ok(shown.checkpoints.completed >= 2, JSON.stringify(shown));
    assert.equal(shown.latest?.kind, "checkpoint");
    assert.equal(shown.restoredFrom, undefined, "a fresh start restored nothing");

    nodes[1]?.child.kill("SIGTERM");
    for (const node of nodes) assert.equal((await exitWithin(node, 20_000)).code, 0, node.stderr());
  });

  it("says no node 0 runs the job when none does", async () => {
    const asked = await status("nosuchjob");
    assert.equal(asked.code, 1);
    assert.match(asked.stderr, /job "nosuchjob": no node 0 of the job is running \(asked on kf\.nosuchjob\.status\)/);
  });
});
