// Real nats-server processes for tests: one server or a JetStream cluster on loopback, each on
// free ports with its own store folder. Never touches the shared server on 127.0.0.1:4222.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";

/** A nats-server process started by this module. */
export interface NatsServerHandle {
  /** Client URL, e.g. `nats://127.0.0.1:39127`. */
  readonly url: string;
  readonly port: number;
  /** Pid of the current process; changes after `restart()`. */
  readonly pid: number;
  /** This server's own temporary folder; JetStream stores under it when enabled. */
  readonly storeDir: string;
  /** Monitoring URL (`/jsz`, `/varz`), set for cluster members. */
  readonly monitorUrl: string | undefined;
  /** SIGTERM, wait for exit (SIGKILL after 5 s), remove the store folder. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit; keeps the store so `restart()` recovers it. */
  kill(): Promise<void>;
  /** Start again on the same port and store, stopping the current process first if it runs. */
  restart(): Promise<void>;
}

/** A JetStream cluster started by `startNatsCluster`. */
export interface NatsClusterHandle {
  readonly servers: NatsServerHandle[];
  /** Client URLs, in server order. */
  readonly urls: string[];
  /** Stops every server of the cluster (and only those). */
  stop(): Promise<void>;
}

const HOST = "127.0.0.1";
const START_TIMEOUT_MS = 10_000;
const META_LEADER_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;
const POLL_MS = 50;
const START_ATTEMPTS = 5;
const STDERR_KEEP_CHARS = 16_000;

const binary = existsSync("/usr/sbin/nats-server") ? "/usr/sbin/nats-server" : "nats-server";

// Every child we started that has not exited, and every store folder not yet removed: the exit
// hook kills and removes them so a crashed or forgetful test leaves no servers or folders behind.
const running = new Set<ChildProcess>();
const storeDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const child of running) child.kill("SIGKILL");
    // Best effort: a killed server might still be writing for a moment.
    for (const dir of storeDirs) rmSync(dir, { recursive: true, force: true });
  });
}

async function makeStoreDir(prefix: string): Promise<string> {
  installExitHook();
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  storeDirs.add(dir);
  return dir;
}

async function removeStoreDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  storeDirs.delete(dir);
}

/** Start failed; `portInUse` tells the caller that new ports may succeed. */
class NatsServerStartError extends Error {
  constructor(
    message: string,
    readonly portInUse: boolean,
  ) {
    super(message);
    this.name = "NatsServerStartError";
  }
}

/**
 * Starts one nats-server on a free loopback port, with JetStream in a fresh temporary store
 * unless `jetstream: false`. Resolves once the server accepts TCP connections.
 *
 * @example
 * const server = await startNatsServer();
 * const nc = await connect({ servers: server.url });
 * // ...
 * await server.stop();
 */
export async function startNatsServer(options: { jetstream?: boolean } = {}): Promise<NatsServerHandle> {
  const jetstream = options.jetstream ?? true;
  const storeDir = await makeStoreDir("kf-nats-");
  for (let attempt = 1; ; attempt++) {
    const [port] = await freePorts(1);
    const args = serverArgs(port, storeDir, jetstream);
    try {
      const child = await launch(args, port);
      return serverHandle(child, args, port, storeDir, undefined);
    } catch (error) {
      // Another process may grab the port between our probe and the server's bind.
      if (error instanceof NatsServerStartError && error.portInUse && attempt < START_ATTEMPTS) continue;
      await removeStoreDir(storeDir);
      throw error;
    }
  }
}

/**
 * Starts a JetStream cluster of `size` servers on loopback (cluster name `kf-test`, servers
 * `kf-test-n1`..), each routed to all its peers. Resolves once every server accepts clients and
 * agrees on a JetStream meta leader, so JetStream API calls work on any of them.
 *
 * @example
 * const cluster = await startNatsCluster(3);
 * const nc = await connect({ servers: cluster.urls });
 * // ...
 * await cluster.stop();
 */
export async function startNatsCluster(size = 3): Promise<NatsClusterHandle> {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`cluster size must be a positive integer, got ${size}`);
  for (let attempt = 1; ; attempt++) {
    const ports = await freePorts(size * 3);
    const clientPorts = ports.slice(0, size);
    const routePorts = ports.slice(size, size * 2);
    const monitorPorts = ports.slice(size * 2);
    const started = await Promise.allSettled(
      clientPorts.map(async (port, i) => {
        const storeDir = await makeStoreDir(`kf-nats-n${i + 1}-`);
        const routes = routePorts.filter((_, j) => j !== i).map((p) => `nats://${HOST}:${p}`);
        // Flags suffice for JetStream clustering in 2.9: it needs a server name and a cluster name.
        const args = [...serverArgs(port, storeDir, true), "-m", String(monitorPorts[i])];
        args.push("--server_name", `kf-test-n${i + 1}`, "--cluster_name", "kf-test");
        args.push("--cluster", `nats://${HOST}:${routePorts[i]}`);
        if (routes.length > 0) args.push("--routes", routes.join(","));
        try {
          const child = await launch(args, port);
          return serverHandle(child, args, port, storeDir, `http://${HOST}:${monitorPorts[i]}`);
        } catch (error) {
          await removeStoreDir(storeDir);
          throw error;
        }
      }),
    );
    const servers = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    const cluster: NatsClusterHandle = {
      servers,
      urls: servers.map((s) => s.url),
      stop: async () => {
        await Promise.all(servers.map((s) => s.stop()));
      },
    };
    const failure = started.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failure === undefined) {
      try {
        await waitForMetaLeader(servers);
        return cluster;
      } catch (error) {
        await cluster.stop();
        throw error;
      }
    }
    await cluster.stop();
    const error: unknown = failure.reason;
    if (error instanceof NatsServerStartError && error.portInUse && attempt < START_ATTEMPTS) continue;
    throw error;
  }
}

function serverArgs(port: number, storeDir: string, jetstream: boolean): string[] {
  return ["-a", HOST, "-p", String(port), ...(jetstream ? ["-js", "-sd", storeDir] : [])];
}

function serverHandle(
  first: ChildProcess,
  args: string[],
  port: number,
  storeDir: string,
  monitorUrl: string | undefined,
): NatsServerHandle {
  let child: ChildProcess | undefined = first;
  let pid = first.pid!;
  let stopping: Promise<void> | undefined;

  const terminate = async (): Promise<void> => {
    const current = child;
    child = undefined;
    if (current !== undefined) await signalAndWait(current, "SIGTERM");
  };

  return {
    url: `nats://${HOST}:${port}`,
    port,
    get pid() {
      return pid;
    },
    storeDir,
    monitorUrl,
    stop() {
      stopping ??= (async () => {
        await terminate();
        await removeStoreDir(storeDir);
      })();
      return stopping;
    },
    async kill() {
      const current = child;
      child = undefined;
      if (current !== undefined) await signalAndWait(current, "SIGKILL");
    },
    async restart() {
      if (stopping !== undefined) throw new Error(`nats-server on port ${port} was stopped; its store is gone`);
      await terminate();
      const next = await launch(args, port);
      child = next;
      pid = next.pid!;
    },
  };
}

/** Spawns nats-server and resolves once it logged readiness and `port` accepts connections. */
async function launch(args: string[], port: number): Promise<ChildProcess> {
  installExitHook();
  const child = spawn(binary, args, { stdio: ["ignore", "ignore", "pipe"] });
  running.add(child);
  // Unref'd so a test that forgets stop() still lets node exit; the exit hook then kills it.
  child.unref();
  (child.stderr as net.Socket).unref();

  let stderr = "";
  let spawnError: Error | undefined;
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEEP_CHARS);
  });
  child.on("error", (error) => (spawnError = error));
  child.on("exit", () => running.delete(child));

  const fail = (reason: string): NatsServerStartError =>
    new NatsServerStartError(
      `nats-server (${binary} ${args.join(" ")}) ${reason}\n--- stderr ---\n${stderr}`,
      /address already in use/i.test(stderr),
    );

  const deadline = Date.now() + START_TIMEOUT_MS;
  // The log line proves *our* process bound the port, not someone who raced us to it.
  while (!(stderr.includes("Server is ready") && (await acceptsConnections(port)))) {
    if (spawnError !== undefined) throw fail(`could not be spawned: ${spawnError.message}`);
    if (child.exitCode !== null || child.signalCode !== null) {
      throw fail(`exited during startup (code ${child.exitCode}, signal ${child.signalCode})`);
    }
    if (Date.now() > deadline) {
      await signalAndWait(child, "SIGKILL");
      throw fail(`did not accept connections on port ${port} within ${START_TIMEOUT_MS} ms`);
    }
    await sleep(POLL_MS);
  }
  return child;
}

/** Sends `signal` and waits for exit; escalates to SIGKILL after the grace period. */
async function signalAndWait(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill(signal);
  // This timer also keeps the event loop alive while we wait on the unref'd child.
  const escalate = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
  try {
    await exited;
  } finally {
    clearTimeout(escalate);
  }
}

/** Polls every server's `/jsz` until all name the same non-empty meta leader. */
async function waitForMetaLeader(servers: NatsServerHandle[]): Promise<void> {
  const deadline = Date.now() + META_LEADER_TIMEOUT_MS;
  let seen: string[] = [];
  for (;;) {
    seen = await Promise.all(
      servers.map(async (s) => {
        try {
          const response = await fetch(`${s.monitorUrl}/jsz`, { signal: AbortSignal.timeout(1_000) });
          const body = (await response.json()) as { meta_cluster?: { leader?: string } };
          return body.meta_cluster?.leader ?? "";
        } catch {
          return "";
        }
      }),
    );
    if (seen[0] !== "" && seen.every((leader) => leader === seen[0])) return;
    if (Date.now() > deadline) {
      throw new Error(
        `JetStream cluster elected no meta leader within ${META_LEADER_TIMEOUT_MS} ms; ` +
          `leaders seen per server: ${JSON.stringify(seen)}`,
      );
    }
    await sleep(POLL_MS * 2);
  }
}

/**
 * Distinct free loopback ports: all listeners are held open together so no two coincide.
 * The ports may still be taken before use; callers retry on "address already in use".
 */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer();
          server.once("error", reject);
          server.listen(0, HOST, () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}

function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: HOST, port });
    socket.setTimeout(1_000);
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
    socket.once("timeout", () => done(false));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
