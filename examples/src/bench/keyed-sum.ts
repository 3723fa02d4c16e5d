import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startNatsServer } from "@keyflow/runtime/testing";
import { recordCount } from "./keyed-sum-job.js";
import { type Measurement, median, readSinkCheck, report, round, runChild, type SinkCheck } from "./measure.js";

const CHILD = new URL("./keyed-sum-child.js", import.meta.url).pathname;

/**
 * `npm run bench` (issue 2): a keyed rolling sum of 10M generated records over 10,000 keys, as
 * (a) a plain loop, (b) Keyflow embedded at parallelism 1, (c) at parallelism 2 on two worker
 * threads, (d) two Keyflow nodes over NATS — each the median of `runs` runs in fresh processes,
 * every Keyflow run checked against the plain loop (record count and 100 sampled keys' sums). Prints the ratios and, last, one JSON line.
 */
export async function keyedSumBenchmark(runs: number): Promise<Record<string, number>> {
  const plainRuns: Measurement[] = [];
  let expected: Map<string, number> | undefined;
  for (let r = 0; r < runs; r++) {
    const run = await runChild<Measurement & { sums: Record<string, number> }>([CHILD, "plain"]);
    expected = new Map(Object.entries(run.sums));
    plainRuns.push(run);
  }
  const plain = median(plainRuns);
  report("plain loop", plainRuns);

  const embedded = async (parallelism: number): Promise<Measurement> => {
    const results: Measurement[] = [];
    for (let r = 0; r < runs; r++) {
      const out = mkdtempSync(join(tmpdir(), "kf-bench-"));
      results.push(await runChild<Measurement>([CHILD, "embedded", String(parallelism)], { KEYFLOW_BENCH_OUT: out }));
      check(`embedded p${parallelism}`, readSinkCheck(out), expected as Map<string, number>);
    }
    report(`keyflow embedded p${parallelism}`, results, plain);
    return median(results);
  };
  const p1 = await embedded(1);
  const p2 = await embedded(2);

  // Two node processes against a nats-server of our own; the slower node's time is the job's.
  const server = await startNatsServer({ jetstream: false });
  const natsRuns: Measurement[] = [];
  try {
    for (let r = 0; r < runs; r++) {
      const out = mkdtempSync(join(tmpdir(), "kf-bench-"));
      const nodes = await Promise.all(
        [0, 1].map((id) => runChild<Measurement>([CHILD, "node", String(id), server.url], { KEYFLOW_BENCH_OUT: out })),
      );
      check("two nodes over NATS", readSinkCheck(out), expected as Map<string, number>);
      const seconds = Math.max(...nodes.map((n) => n.seconds));
      natsRuns.push({
        recordsPerSecond: Math.min(...nodes.map((n) => n.recordsPerSecond)),
        seconds,
        startupMs: Math.max(...nodes.map((n) => n.startupMs ?? 0)),
        peakRssMB: Math.max(...nodes.map((n) => n.peakRssMB)),
      });
    }
  } finally {
    await server.stop();
  }
  const nats = median(natsRuns);
  report("keyflow two nodes over NATS", natsRuns, plain);

  const figures = {
    plainLoop: Math.round(plain.recordsPerSecond),
    embeddedP1: Math.round(p1.recordsPerSecond),
    embeddedP2: Math.round(p2.recordsPerSecond),
    natsTwoNodes: Math.round(nats.recordsPerSecond),
    ratioP1: round(p1.recordsPerSecond / plain.recordsPerSecond),
    ratioP2: round(p2.recordsPerSecond / plain.recordsPerSecond),
    ratioNats: round(nats.recordsPerSecond / plain.recordsPerSecond),
    peakRssMB: Math.round(Math.max(p1.peakRssMB, p2.peakRssMB, nats.peakRssMB)),
    startupMsP1: Math.round(p1.startupMs ?? 0),
    startupMsP2: Math.round(p2.startupMs ?? 0),
    startupMsNats: Math.round(nats.startupMs ?? 0),
  };
  return figures;
}

/** Every record reached the sink once, and every sampled key's final sum equals the plain loop's. */
function check(name: string, actual: SinkCheck, expected: Map<string, number>): void {
  if (actual.count !== recordCount())
    throw new Error(`${name}: the sink saw ${actual.count} records, expected ${recordCount()}`);
  for (const [key, sum] of expected) {
    if (key.length > 6) continue;
    if (actual.sums.get(key) !== sum)
      throw new Error(`${name}: key ${key} summed to ${actual.sums.get(key)}, expected ${sum}`);
  }
  if (actual.sums.size !== [...expected.keys()].filter((key) => key.length <= 6).length) {
    throw new Error(`${name}: ${actual.sums.size} sampled keys, expected 100`);
  }
}
