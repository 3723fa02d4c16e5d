import { startNatsServer } from "@keyflow/runtime/testing";
import { KEYS } from "./functions-job.js";
import { round, runChild } from "./measure.js";

const CHILD = new URL("./functions-child.js", import.meta.url).pathname;

interface ChildRun {
  readonly messagesPerSecond: number;
  readonly seconds: number;
  readonly exactKeys: number;
  readonly checkpoints: number;
  readonly latencies: number[];
}

interface Figure {
  readonly messagesPerSecond: number;
  readonly exactKeys: number;
  readonly checkpoints: number;
  readonly latencies: number[];
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const percentile = (sorted: number[], p: number) =>
  sorted.length === 0
    ? Number.NaN
    : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number);

/**
 * `npm run bench -- functions`: per-key counter functions, 1M messages over 10,000 keys (ingress →
 * counter → egress), embedded on the main thread, on two worker threads and on two nodes over
 * NATS, each without and with a checkpoint every second; then latency from ingress to the
 * handler's egress (p50/p99) on two nodes with checkpoints at half that run's maximum rate. Every
 * run checks that every key's final count is exact. Medians of KEYFLOW_BENCH_RUNS runs (default 3).
 */
export async function functionsBenchmark(runs: number): Promise<object> {
  const server = await startNatsServer({ jetstream: false });
  try {
    let sumsOk = true;
    const measure = async (
      name: string,
      run: () => Promise<ChildRun[]>,
      env: NodeJS.ProcessEnv = {},
      times = runs,
    ): Promise<Figure> => {
      const figures: Figure[] = [];
      for (let r = 0; r < times; r++) {
        Object.assign(process.env, env);
        const parts = await run();
        const exactKeys = parts.reduce((n, p) => n + p.exactKeys, 0);
        if (exactKeys !== KEYS) sumsOk = false;
        figures.push({
          // The slower part's time is the job's.
          messagesPerSecond: Math.min(...parts.map((p) => p.messagesPerSecond)),
          exactKeys,
          checkpoints: parts.reduce((n, p) => n + p.checkpoints, 0),
          latencies: parts.flatMap((p) => p.latencies),
        });
        for (const key of Object.keys(env)) delete process.env[key];
      }
      const rates = figures.map((f) => f.messagesPerSecond);
      const mid = figures.find((f) => f.messagesPerSecond === median(rates)) as Figure;
      console.log(
        `${name}: ${Math.round(mid.messagesPerSecond).toLocaleString("en")} messages/s ` +
          `(${rates.map((r) => Math.round(r / 1000)).join(", ")} K), exact keys ${mid.exactKeys}/${KEYS}` +
          (mid.checkpoints > 0 ? `, ${mid.checkpoints} checkpoints completed` : ""),
      );
      return mid;
    };
    const embedded = (threads: number) => async () => [await runChild<ChildRun>([CHILD, "embedded", String(threads)])];
    let cluster = 0;
    const twoNodes = async () => {
      // Each run its own job id, so a late message of one run never reaches the next.
      const jobId = `bench-functions-${process.pid}-${cluster++}`;
      return Promise.all(
        [0, 1].map((node) =>
          runChild<ChildRun>([CHILD, "node", String(node), server.url], { KEYFLOW_BENCH_JOB_ID: jobId }),
        ),
      );
    };
    const ckpt = { KEYFLOW_BENCH_CHECKPOINTS: "1" };
    const p1 = await measure("embedded, 1 thread", embedded(1));
    const p1c = await measure("embedded, 1 thread, checkpoints every second", embedded(1), ckpt);
    const w2 = await measure("embedded, 2 worker threads", embedded(2));
    const w2c = await measure("embedded, 2 worker threads, checkpoints every second", embedded(2), ckpt);
    const n2 = await measure("two nodes over NATS", twoNodes);
    const n2c = await measure("two nodes over NATS, checkpoints every second", twoNodes, ckpt);
    const halfRate = Math.round(n2c.messagesPerSecond / 2);
    const latency = await measure(
      `two nodes over NATS, checkpoints every second, at ${halfRate.toLocaleString("en")} messages/s (half the maximum)`,
      twoNodes,
      { ...ckpt, KEYFLOW_BENCH_RATE: String(halfRate), KEYFLOW_BENCH_SAMPLE: "10" },
      1,
    );
    const sorted = [...latency.latencies].sort((a, b) => a - b);
    const p50Ms = round(percentile(sorted, 50));
    const p99Ms = round(percentile(sorted, 99));
    console.log(`latency ingress → egress: p50 ${p50Ms} ms, p99 ${p99Ms} ms (${sorted.length} samples)`);
    return {
      embedded: Math.round(p1.messagesPerSecond),
      embeddedCheckpoints: Math.round(p1c.messagesPerSecond),
      workers2: Math.round(w2.messagesPerSecond),
      workers2Checkpoints: Math.round(w2c.messagesPerSecond),
      twoNodesNoCheckpoints: Math.round(n2.messagesPerSecond),
      twoNodes: Math.round(n2c.messagesPerSecond),
      p50Ms,
      p99Ms,
      sumsOk,
    };
  } finally {
    await server.stop();
  }
}
