import assert from "node:assert/strict";
import net from "node:net";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { exitWithin, killAll, spawnKeyflow } from "./keyflow-process.js";

const SUM_JOB = fileURLToPath(new URL("../fixtures/cluster-sum-job.js", import.meta.url));

/** A loopback port nobody listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("keyflow node", () => {
  after(killAll);

  it("documents its options in --help", async () => {
    const help = spawnKeyflow(["node", "--help"]);
    assert.equal((await exitWithin(help, 10_000)).code, 0);
    for (const option of ["--nats <url>", "--job <module>", "--node <id>", "--nodes <n>", "--parallelism <n>"]) {
      assert.ok(help.stdout().includes(option), `--help mentions ${option}`);
    }
    for (const option of ["--job-id <id>", "--results <file>", "--batch-size <n>", "--buffer-timeout <ms>"]) {
      assert.ok(help.stdout().includes(option), `--help mentions ${option}`);
    }
  });

  it("prints one line naming the URL when NATS cannot be reached, and exits 1", async () => {
    const url = `nats://127.0.0.1:${await closedPort()}`;
    const node = spawnKeyflow(["node", "--nats", url, "--job", SUM_JOB, "--node", "0", "--nodes", "2"]);
    const exit = await exitWithin(node, 10_000);
    assert.equal(exit.code, 1);
    assert.equal(node.stderr(), `keyflow: cannot reach NATS at ${url} (connection refused)\n`);
    assert.equal(node.stdout(), "");
  });

  it("rejects a node id outside the cluster before connecting", async () => {
    const node = spawnKeyflow([
      "node",
      "--nats",
      "nats://127.0.0.1:1",
      "--job",
      SUM_JOB,
      "--node",
      "2",
      "--nodes",
      "2",
    ]);
    assert.equal((await exitWithin(node, 10_000)).code, 1);
    assert.equal(node.stderr(), "keyflow: static node: node must be an integer in [0, 2), got 2\n");
  });

  it("rejects a job id that cannot be a NATS subject token", async () => {
    const url = `nats://127.0.0.1:${await closedPort()}`;
    const node = spawnKeyflow([
      "node",
      "--nats",
      url,
      "--job",
      SUM_JOB,
      "--node",
      "0",
      "--nodes",
      "1",
      "--job-id",
      "a.b",
    ]);
    assert.equal((await exitWithin(node, 10_000)).code, 1);
    assert.match(node.stderr(), /^keyflow: job id "a\.b" cannot be part of a NATS subject/);
  });
});
