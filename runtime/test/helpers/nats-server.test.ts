import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { connect } from "@nats-io/transport-node";
import type { NatsClusterHandle, NatsServerHandle } from "./nats-server.js";
import { startNatsCluster, startNatsServer } from "./nats-server.js";

const TEST_TIMEOUT = { timeout: 15_000 };

describe("startNatsServer", () => {
  let server: NatsServerHandle;
  before(async () => {
    server = await startNatsServer();
  });
  after(async () => {
    await server?.stop();
  });

  it("greets a raw TCP client with an INFO line on a free loopback port", TEST_TIMEOUT, async () => {
    assert.match(server.url, /^nats:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(server.port, 4222, "must never use the shared server's port");
    const info = await readInfo(server.port);
    assert.equal(info.port, server.port);
    assert.equal(info.jetstream, true);
  });

  it("delivers a published message to a subscriber", TEST_TIMEOUT, async () => {
    const nc = await connect({ servers: server.url });
    try {
      const sub = nc.subscribe("kf.test.hello", { max: 1 });
      nc.publish("kf.test.hello", "hello");
      const received: string[] = [];
      for await (const msg of sub) received.push(msg.string());
      assert.deepEqual(received, ["hello"]);
    } finally {
      await nc.close();
    }
  });

  it("answers a JetStream account info request", TEST_TIMEOUT, async () => {
    const nc = await connect({ servers: server.url });
    try {
      const reply = await nc.request("$JS.API.INFO", "", { timeout: 2_000 });
      const info = reply.json<{ type: string; error?: unknown }>();
      assert.equal(info.type, "io.nats.jetstream.api.v1.account_info_response");
      assert.equal(info.error, undefined);
    } finally {
      await nc.close();
    }
  });

  it("closes its port when killed and keeps its JetStream store across restart", TEST_TIMEOUT, async () => {
    const nc = await connect({ servers: server.url, reconnect: false });
    try {
      await jsApi(nc, "$JS.API.STREAM.CREATE.KF_TEST", { name: "KF_TEST", subjects: ["kf.stream.>"], storage: "file" });
      const ack = (await nc.request("kf.stream.a", "persisted", { timeout: 2_000 })).json<{ seq: number }>();
      assert.equal(ack.seq, 1);
    } finally {
      await nc.close();
    }

    const killedPid = server.pid;
    await server.kill();
    assert.equal(await portIsOpen(server.port), false);
    assert.equal(processExists(killedPid), false);

    await server.restart();
    assert.notEqual(server.pid, killedPid);
    const again = await connect({ servers: server.url });
    try {
      const info = await jsApi<{ state: { messages: number } }>(again, "$JS.API.STREAM.INFO.KF_TEST", {});
      assert.equal(info.state.messages, 1);
    } finally {
      await again.close();
    }
  });

  it("stops idempotently, ends its process and removes its store folder", TEST_TIMEOUT, async () => {
    const pid = server.pid;
    await Promise.all([server.stop(), server.stop()]);
    await server.stop();
    assert.equal(processExists(pid), false);
    assert.equal(await portIsOpen(server.port), false);
    assert.equal(existsSync(server.storeDir), false);
  });

  it("starts without JetStream when asked to", TEST_TIMEOUT, async () => {
    const plain = await startNatsServer({ jetstream: false });
    try {
      const info = await readInfo(plain.port);
      assert.notEqual(info.jetstream, true);
    } finally {
      await plain.stop();
    }
  });
});

describe("startNatsCluster", () => {
  let cluster: NatsClusterHandle;
  before(async () => {
    cluster = await startNatsCluster(3);
  });
  after(async () => {
    await cluster?.stop();
  });

  it("gives each of the three servers its own port, process and store folder", () => {
    assert.equal(cluster.servers.length, 3);
    for (const key of ["port", "pid", "storeDir"] as const) {
      assert.equal(new Set(cluster.servers.map((s) => s[key])).size, 3, `${key} must differ`);
    }
    assert.deepEqual(
      cluster.urls,
      cluster.servers.map((s) => s.url),
    );
  });

  it("routes a message published on one server to a subscriber on another", TEST_TIMEOUT, async () => {
    const publisher = await connect({ servers: cluster.urls[0] });
    const subscriber = await connect({ servers: cluster.urls[2] });
    try {
      const sub = subscriber.subscribe("kf.test.across", { max: 1 });
      await subscriber.flush();
      // Interest reaches the other server asynchronously over the route; publish until it lands.
      const timer = setInterval(() => publisher.publish("kf.test.across", "across"), 50);
      const received: string[] = [];
      try {
        for await (const msg of sub) received.push(msg.string());
      } finally {
        clearInterval(timer);
      }
      assert.deepEqual(received, ["across"]);
    } finally {
      await Promise.all([publisher.close(), subscriber.close()]);
    }
  });

  it("creates a stream replicated on all three servers", TEST_TIMEOUT, async () => {
    const nc = await connect({ servers: cluster.urls[1] });
    try {
      const created = await jsApi<{ cluster: { leader: string; replicas?: unknown[] } }>(
        nc,
        "$JS.API.STREAM.CREATE.KF_REPLICATED",
        { name: "KF_REPLICATED", subjects: ["kf.replicated.>"], num_replicas: 3 },
      );
      assert.ok(created.cluster.leader.startsWith("kf-test-n"));
      assert.equal(created.cluster.replicas?.length, 2);
    } finally {
      await nc.close();
    }
  });

  it("stops exactly the processes it started", TEST_TIMEOUT, async () => {
    const pids = cluster.servers.map((s) => s.pid);
    await cluster.stop();
    for (const pid of pids) assert.equal(processExists(pid), false, `pid ${pid} still runs`);
    for (const s of cluster.servers) assert.equal(existsSync(s.storeDir), false);
  });
});

/** The part of the server's INFO these tests read. */
interface ServerInfo {
  server_id: string;
  port: number;
  jetstream?: boolean;
}

/** Reads the `INFO {...}` line a NATS server sends first to every client. */
async function readInfo(port: number): Promise<ServerInfo> {
  const socket = net.connect({ host: "127.0.0.1", port });
  socket.setEncoding("utf8");
  let buffered = "";
  try {
    for await (const chunk of socket) {
      buffered += chunk as string;
      const end = buffered.indexOf("\r\n");
      if (end === -1) continue;
      const line = buffered.slice(0, end);
      assert.match(line, /^INFO \{/);
      return JSON.parse(line.slice("INFO ".length)) as ServerInfo;
    }
    throw new Error(`connection to port ${port} closed before INFO`);
  } finally {
    socket.destroy();
  }
}

/** Sends a JetStream API request and fails on an API error, so tests need no JetStream client. */
async function jsApi<T = unknown>(nc: Awaited<ReturnType<typeof connect>>, subject: string, body: object): Promise<T> {
  const reply = await nc.request(subject, JSON.stringify(body), { timeout: 5_000 });
  const json = reply.json<T & { error?: { description: string } }>();
  if (json.error !== undefined) throw new Error(`${subject}: ${json.error.description}`);
  return json;
}

function portIsOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
