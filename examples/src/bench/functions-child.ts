import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import { execute, MemoryCheckpointStorage, runNode } from "@keyflow/runtime";
import { records } from "./functions-job.js";

/**
 * One measurement of the functions benchmark in its own process: `embedded <threads>` (1: the
 * main thread, 2: two worker threads, parallelism = threads) or `node <id> <nats url>` (one of two
 * nodes, parallelism 2). `KEYFLOW_BENCH_CHECKPOINTS=1` takes a checkpoint every second (in memory;
 * node 0 leads on a cluster); `KEYFLOW_BENCH_BUFFER_TIMEOUT` and `KEYFLOW_BENCH_BATCH_SIZE` set
 * the runtime's options of those names (default: the runtime's). The sink writes its checks and
 * latencies under KEYFLOW_BENCH_OUT. Prints one JSON line: messages per second while the shards
 * ran, seconds, start-up, checkpoints completed (as seen by this process), CPU seconds.
 */
const [mode, arg, natsUrl] = process.argv.slice(2);
const job = new URL("./functions-job.js", import.meta.url);
const checkpointed = process.env.KEYFLOW_BENCH_CHECKPOINTS === "1";
const tuning = {
  ...(process.env.KEYFLOW_BENCH_BUFFER_TIMEOUT === undefined
    ? {}
    : { bufferTimeoutMs: Number(process.env.KEYFLOW_BENCH_BUFFER_TIMEOUT) }),
  ...(process.env.KEYFLOW_BENCH_BATCH_SIZE === undefined
    ? {}
    : { batchSize: Number(process.env.KEYFLOW_BENCH_BATCH_SIZE) }),
};
let completed = 0;
const log = (line: string) => {
  if (/^checkpoint \d+ complete$/.test(line)) completed++;
};

// With KEYFLOW_BENCH_DIAG=1: how long this thread's event loop was held (a long synchronous task
// delays every message behind it) and how long garbage collection paused it.
const diag = process.env.KEYFLOW_BENCH_DIAG === "1";
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
const gcPauses: number[] = [];
const gcByKind: Record<string, { count: number; totalMs: number; maxMs: number }> = {};
const GC_KINDS: Record<number, string> = { 1: "minor", 4: "major", 8: "incremental", 16: "weakcb" };
const gcObserver = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcPauses.push(entry.duration);
    const kind = GC_KINDS[(entry as unknown as { detail: { kind: number } }).detail.kind] ?? "other";
    const k = (gcByKind[kind] ??= { count: 0, totalMs: 0, maxMs: 0 });
    k.count++;
    k.totalMs += entry.duration;
    k.maxMs = Math.max(k.maxMs, entry.duration);
  }
});
if (diag) {
  loopDelay.enable();
  gcObserver.observe({ entryTypes: ["gc"] });
}

let result: { durationMs: number; startupMs: number };
if (mode === "embedded") {
  const threads = Number(arg ?? 1);
  result = await execute(job, {
    parallelism: threads,
    workers: threads === 1 ? 0 : threads,
    ...tuning,
    ...(checkpointed ? { checkpoints: { intervalMs: 1_000, storage: new MemoryCheckpointStorage() }, log } : {}),
  });
} else if (mode === "node") {
  const node = Number(arg);
  result = await runNode({
    natsUrl: natsUrl as string,
    job,
    node,
    nodes: 2,
    parallelism: 2,
    ...tuning,
    ...(process.env.KEYFLOW_BENCH_JOB_ID === undefined ? {} : { jobId: process.env.KEYFLOW_BENCH_JOB_ID }),
    ...(checkpointed
      ? {
          checkpoints: { intervalMs: 1_000, ...(node === 0 ? { storage: new MemoryCheckpointStorage() } : {}) },
          log,
        }
      : {}),
  });
} else {
  console.error(`unknown mode ${mode}: use "embedded <threads>" or "node <id> <nats url>"`);
  process.exit(2);
}

const seconds = (result.durationMs - result.startupMs) / 1000;
const cpu = process.cpuUsage();
console.log(
  JSON.stringify({
    messagesPerSecond: records() / seconds,
    seconds,
    startupMs: result.startupMs,
    checkpoints: completed,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    ...(diag
      ? {
          loopDelayMs: {
            p50: loopDelay.percentile(50) / 1e6,
            p99: loopDelay.percentile(99) / 1e6,
            p999: loopDelay.percentile(99.9) / 1e6,
            max: loopDelay.max / 1e6,
          },
          gc: {
            count: gcPauses.length,
            totalMs: gcPauses.reduce((a, b) => a + b, 0),
            maxMs: Math.max(0, ...gcPauses),
            over5Ms: gcPauses.filter((d) => d > 5).length,
            byKind: gcByKind,
          },
        }
      : {}),
  }),
);
