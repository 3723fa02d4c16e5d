import { execute, MemoryCheckpointStorage, runNode } from "@keyflow/runtime";
import { type CountOut, KEYS, records } from "./functions-job.js";

/**
 * One measurement of the functions benchmark in its own process: `embedded <threads>` (1: the
 * main thread, 2: two worker threads, parallelism = threads) or `node <id> <nats url>` (one of two
 * nodes, parallelism 2). `KEYFLOW_BENCH_CHECKPOINTS=1` takes a checkpoint every second (in memory;
 * node 0 leads on a cluster). Prints one JSON line: messages per second while the shards ran, how
 * many keys ended with their exact count, and the sampled latencies.
 */
const [mode, arg, natsUrl] = process.argv.slice(2);
const job = new URL("./functions-job.js", import.meta.url);
const checkpointed = process.env.KEYFLOW_BENCH_CHECKPOINTS === "1";
let completed = 0;
const log = (line: string) => {
  if (/^checkpoint \d+ complete$/.test(line)) completed++;
};

let values: CountOut[];
let seconds: number;
if (mode === "embedded") {
  const threads = Number(arg ?? 1);
  const result = await execute(job, {
    parallelism: threads,
    workers: threads === 1 ? 0 : threads,
    ...(checkpointed ? { checkpoints: { intervalMs: 1_000, storage: new MemoryCheckpointStorage() }, log } : {}),
  });
  values = (result.collected.get("counts") ?? []) as CountOut[];
  seconds = (result.durationMs - result.startupMs) / 1000;
} else if (mode === "node") {
  const node = Number(arg);
  const result = await runNode({
    natsUrl: natsUrl as string,
    job,
    node,
    nodes: 2,
    parallelism: 2,
    ...(process.env.KEYFLOW_BENCH_JOB_ID === undefined ? {} : { jobId: process.env.KEYFLOW_BENCH_JOB_ID }),
    ...(checkpointed
      ? {
          checkpoints: { intervalMs: 1_000, ...(node === 0 ? { storage: new MemoryCheckpointStorage() } : {}) },
          log,
        }
      : {}),
  });
  values = Object.values(result.collected.counts ?? {}).flat() as CountOut[];
  seconds = (result.durationMs - result.startupMs) / 1000;
} else {
  console.error(`unknown mode ${mode}: use "embedded <threads>" or "node <id> <nats url>"`);
  process.exit(2);
}

const perKey = records() / KEYS;
const finals = new Map<string, number>();
const latencies: number[] = [];
for (const v of values) {
  if (v.count === perKey) finals.set(v.id, (finals.get(v.id) ?? 0) + 1);
  latencies.push(Math.round(v.latencyMs * 100) / 100);
}
const exactKeys = [...finals.values()].filter((n) => n === 1).length;
console.log(
  JSON.stringify({ messagesPerSecond: records() / seconds, seconds, exactKeys, checkpoints: completed, latencies }),
);
