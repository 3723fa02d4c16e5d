import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startNatsServer } from "@keyflow/runtime/testing";
import { decodeFromCompressedBase64, type Histogram } from "hdr-histogram-js";
import { type FunctionsSinkFile, KEYS, records } from "./functions-job.js";
import { round, runChild } from "./measure.js";

const CHILD = new URL("./functions-child.js", import.meta.url).pathname;

interface ChildRun {
  readonly messagesPerSecond: number;
  readonly seconds: number;
  readonly startupMs: number;
  readonly checkpoints: number;
  readonly cpuSeconds: number;
}

interface Figure {
  readonly messagesPerSecond: number;
  readonly seconds: number;
  readonly checkpoints: number;
  readonly cpuSeconds: number;
  readonly histogram: Histogram | undefined;
  readonly worstPer100Ms: number[];
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

/** Merges the sink shards' files of one run, checks every key's final count, then removes them. */
function readSinks(dir: string, expected: number): { ok: boolean; histogram?: Histogram; worst: number[] } {
  let received = 0;
  let finals = 0;
  let over = 0;
  let histogram: Histogram | undefined;
  const worst: number[] = [];
  for (const name of readdirSync(dir)) {
    const file = JSON.parse(readFileSync(join(dir, name), "utf8")) as FunctionsSinkFile;
    received += file.received;
    finals += file.finals;
    over += file.over;
    if (file.histogram !== undefined) {
      const part = decodeFromCompressedBase64(file.histogram);
      if (histogram === undefined) histogram = part;
      else histogram.add(part);
    }
    file.worstPer100Ms?.forEach((w, i) => {
      worst[i] = Math.max(worst[i] ?? 0, w);
    });
  }
  rmSync(dir, { recursive: true, force: true });
  const ok = received === expected && finals === KEYS && over === 0;
  if (!ok) console.log(`  CHECK FAILED: ${received}/${expected} received, ${finals}/${KEYS} exact keys, ${over} over`);
  return { ok, ...(histogram === undefined ? {} : { histogram }), worst: Array.from(worst, (w) => w ?? 0) };
}

/**
 * `npm run bench -- functions`: per-key counter functions over 10,000 keys (ingress → counter →
 * egress → a sink checking every key's count), embedded on the main thread, on two worker threads
 * and on two nodes over NATS, each without and with a checkpoint every second: messages per second,
 * the median of KEYFLOW_BENCH_RUNS runs (default 3) of KEYFLOW_BENCH_RECORDS messages (default 12M,
 * so a run lasts 5–10 s and completes several checkpoints). Then latency, from the message's
 * ingress (the generator's wall clock when it made it) to the sink's receipt of the handler's
 * egress, on two nodes with checkpoints every second, paced at half that configuration's maximum
 * rate for KEYFLOW_BENCH_LATENCY_SECONDS (default 12): p50, p99, p99.9 and max from an HDR
 * histogram of every message. KEYFLOW_BENCH_ONLY=latency skips the throughput runs (then
 * KEYFLOW_BENCH_RATE gives the rate); KEYFLOW_BENCH_BUFFER_TIMEOUT / _BATCH_SIZE tune every run.
 */
export async function functionsBenchmark(runs: number): Promise<object> {
  const server = await startNatsServer({ jetstream: false });
  try {
    let sumsOk = true;
    const measure = async (
      name: string,
      run: (out: string) => Promise<ChildRun[]>,
      env: NodeJS.ProcessEnv = {},
      times = runs,
    ): Promise<Figure> => {
      const figures: Figure[] = [];
      for (let r = 0; r < times; r++) {
        Object.assign(process.env, env);
        const out = mkdtempSync(join(tmpdir(), "kf-bench-functions-"));
        const parts = await run(out);
        if (process.env.KEYFLOW_BENCH_DIAG === "1") for (const part of parts) console.log(`  ${JSON.stringify(part)}`);
        const sinks = readSinks(out, Number(process.env.KEYFLOW_BENCH_RECORDS ?? records()));
        if (!sinks.ok) sumsOk = false;
        figures.push({
          // The slower part's time is the job's.
          messagesPerSecond: Math.min(...parts.map((p) => p.messagesPerSecond)),
          seconds: Math.max(...parts.map((p) => p.seconds)),
          // The leader logs each completed checkpoint; followers may too.
          checkpoints: Math.max(...parts.map((p) => p.checkpoints)),
          cpuSeconds: parts.reduce((n, p) => n + p.cpuSeconds, 0),
          histogram: sinks.histogram,
          worstPer100Ms: sinks.worst,
        });
        for (const key of Object.keys(env)) delete process.env[key];
      }
      const rates = figures.map((f) => f.messagesPerSecond);
      const mid = figures.find((f) => f.messagesPerSecond === median(rates)) as Figure;
      console.log(
        `${name}: ${Math.round(mid.messagesPerSecond).toLocaleString("en")} messages/s ` +
          `(runs: ${rates.map((r) => Math.round(r / 1000)).join(", ")} K), ${mid.seconds.toFixed(1)} s, ` +
          `CPU ${mid.cpuSeconds.toFixed(1)} s` +
          (env.KEYFLOW_BENCH_CHECKPOINTS === "1" ? `, ${mid.checkpoints} checkpoints completed` : ""),
      );
      return mid;
    };
    const embedded = (threads: number) => async (out: string) => [
      await runChild<ChildRun>([CHILD, "embedded", String(threads)], { KEYFLOW_BENCH_OUT: out }),
    ];
    let cluster = 0;
    const twoNodes = async (out: string) => {
      // Each run its own job id, so a late message of one run never reaches the next.
      const jobId = `bench-functions-${process.pid}-${cluster++}`;
      return Promise.all(
        [0, 1].map((node) =>
          runChild<ChildRun>([CHILD, "node", String(node), server.url], {
            KEYFLOW_BENCH_JOB_ID: jobId,
            KEYFLOW_BENCH_OUT: out,
          }),
        ),
      );
    };
    const ckpt = { KEYFLOW_BENCH_CHECKPOINTS: "1" };
    const throughput = process.env.KEYFLOW_BENCH_ONLY !== "latency";
    const figures: Record<string, number | boolean> = {};
    let maxTwoNodes = Number(process.env.KEYFLOW_BENCH_RATE ?? 0) * 2;
    if (throughput) {
      console.log(`throughput: ${records().toLocaleString("en")} messages per run, medians of ${runs}`);
      const p1 = await measure("embedded, 1 thread", embedded(1));
      const p1c = await measure("embedded, 1 thread, checkpoints every second", embedded(1), ckpt);
      const w2 = await measure("embedded, 2 worker threads", embedded(2));
      const w2c = await measure("embedded, 2 worker threads, checkpoints every second", embedded(2), ckpt);
      const n2 = await measure("two nodes over NATS", twoNodes);
      const n2c = await measure("two nodes over NATS, checkpoints every second", twoNodes, ckpt);
      Object.assign(figures, {
        embedded: Math.round(p1.messagesPerSecond),
        embeddedCheckpoints: Math.round(p1c.messagesPerSecond),
        workers2: Math.round(w2.messagesPerSecond),
        workers2Checkpoints: Math.round(w2c.messagesPerSecond),
        twoNodesNoCheckpoints: Math.round(n2.messagesPerSecond),
        twoNodes: Math.round(n2c.messagesPerSecond),
      });
      maxTwoNodes = n2c.messagesPerSecond;
    }
    if (!(maxTwoNodes > 0)) throw new Error("KEYFLOW_BENCH_ONLY=latency needs KEYFLOW_BENCH_RATE");
    const halfRate = Math.round(maxTwoNodes / 2);
    const latencySeconds = Number(process.env.KEYFLOW_BENCH_LATENCY_SECONDS ?? 12);
    const latencyRecords = Math.max(1, Math.round((halfRate * latencySeconds) / KEYS)) * KEYS;
    const latencyEnv = {
      ...(process.env.KEYFLOW_BENCH_LATENCY_CHECKPOINTS === "0" ? {} : ckpt),
      KEYFLOW_BENCH_RATE: String(halfRate),
      KEYFLOW_BENCH_RECORDS: String(latencyRecords),
      KEYFLOW_BENCH_LATENCY: "1",
    };
    const latency = await measure(
      `latency: two nodes over NATS${latencyEnv.KEYFLOW_BENCH_CHECKPOINTS === "1" ? ", checkpoints every second" : ""}, ` +
        `${latencyRecords.toLocaleString("en")} messages paced at ${halfRate.toLocaleString("en")}/s (half the maximum)`,
      twoNodes,
      latencyEnv,
      1,
    );
    const h = latency.histogram as Histogram;
    const at = (p: number) => round(h.getValueAtPercentile(p) / 1000);
    const p50Ms = at(50);
    const p99Ms = at(99);
    const p999Ms = at(99.9);
    const maxMs = round(h.maxValue / 1000);
    console.log(
      `latency ingress → egress receipt: p50 ${p50Ms} ms, p99 ${p99Ms} ms, p99.9 ${p999Ms} ms, max ${maxMs} ms ` +
        `(${h.totalCount.toLocaleString("en")} messages, ${latency.checkpoints} checkpoints completed during the run)`,
    );
    if (process.env.KEYFLOW_BENCH_TRACE === "1") {
      console.log(`worst latency per 100 ms (ms): ${latency.worstPer100Ms.join(" ")}`);
    }
    return {
      ...figures,
      latencyRate: halfRate,
      p50Ms,
      p99Ms,
      p999Ms,
      maxMs,
      latencyCheckpoints: latency.checkpoints,
      sumsOk,
    };
  } finally {
    await server.stop();
  }
}
