import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CheckpointStore, execute, type JobControl } from "@keyflow/runtime";
import { KEYS, PhasedSource, phasedJob, throughputJob } from "./checkpoints-job.js";
import { round } from "./measure.js";

const CLI = fileURLToPath(new URL("./cli/main.js", import.meta.resolve("@keyflow/runtime")));
const RECOVERY_JOB = fileURLToPath(new URL("./checkpoints-recovery-job.js", import.meta.url));

function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "kf-bench-ckpt-"));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Records per second of the counting job, without checkpoints or with one every second into LevelDB. */
async function throughput(records: number, checkpoints: boolean): Promise<number> {
  const { dir, remove } = tempDir();
  const store = checkpoints
    ? await CheckpointStore.open(dir, { chunkEntries: Number(process.env.KEYFLOW_BENCH_CHUNK ?? 1000) })
    : undefined;
  try {
    let completed = 0;
    const result = await execute(throughputJob(records), {
      workers: 0,
      ...(store === undefined
        ? {}
        : {
            checkpoints: { intervalMs: 1_000, storage: store },
            log: (line: string) => {
              if (/^checkpoint \d+ complete$/.test(line)) completed++;
            },
          }),
    });
    if (store !== undefined) console.log(`  (${completed} checkpoints completed during the run)`);
    return records / (result.durationMs / 1000);
  } finally {
    await store?.close();
    remove();
  }
}

/** A full checkpoint of a million keys, then an incremental one after 1% of them changed: ms from trigger to complete. */
async function incrementalVsFull(): Promise<{ fullMs: number; incrementalMs: number }> {
  const { dir, remove } = tempDir();
  const store = await CheckpointStore.open(dir);
  const changed = KEYS / 100;
  const source = new PhasedSource([KEYS, changed, 1]);
  const processed = { count: 0 };
  let control: JobControl | undefined;
  const waitFor = async (count: number) => {
    while (processed.count < count) await new Promise((resolve) => setTimeout(resolve, 5));
  };
  try {
    const run = execute(phasedJob(source, processed), {
      workers: 0,
      checkpoints: { intervalMs: 1_000_000_000, storage: store },
      onControl: (c) => {
        control = c;
      },
    });
    await waitFor(KEYS);
    let started = performance.now();
    await (control as JobControl).checkpoint(); // each shard's first snapshot is full
    const fullMs = performance.now() - started;
    source.release();
    await waitFor(KEYS + changed);
    started = performance.now();
    await (control as JobControl).checkpoint();
    const incrementalMs = performance.now() - started;
    source.release();
    source.release();
    await run;
    return { fullMs, incrementalMs };
  } finally {
    await store.close();
    remove();
  }
}

/** SIGKILL of a `keyflow run --state-dir` process holding ~1M keys, to its restart processing records again. */
async function recoverySeconds(): Promise<number> {
  const { dir, remove } = tempDir();
  const state = join(dir, "state");
  const args = [CLI, "run", RECOVERY_JOB, "--state-dir", state, "--checkpoint-interval", "500"];
  const spawnRun = () => {
    const child = spawn(process.execPath, args, {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, KEYFLOW_VERBOSE: "1" },
    });
    let stderr = "";
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    return { child, stderr: () => stderr };
  };
  const waitUntil = async (test: () => boolean, what: string, ms: number) => {
    const deadline = Date.now() + ms;
    while (!test()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  let children: ChildProcess[] = [];
  try {
    const first = spawnRun();
    children.push(first.child);
    // The million keys arrive in 2.5 s at 400K records/s; then wait for two checkpoints that hold them.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const completedBefore = (first.stderr().match(/checkpoint \d+ complete/g) ?? []).length;
    await waitUntil(
      () => (first.stderr().match(/checkpoint \d+ complete/g) ?? []).length >= completedBefore + 2,
      "two checkpoints after the state was loaded",
      60_000,
    );
    const killedAt = Date.now();
    first.child.kill("SIGKILL");
    const second = spawnRun();
    children.push(second.child);
    await waitUntil(
      () => /bench: processing at (\d+)/.test(second.stderr()),
      "the restarted process to process",
      60_000,
    );
    const processingAt = Number(/bench: processing at (\d+)/.exec(second.stderr())?.[1]);
    if (!/restoring from checkpoint/.test(second.stderr())) throw new Error(`no restore:\n${second.stderr()}`);
    return (processingAt - killedAt) / 1000;
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    children = [];
    remove();
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

/**
 * `npm run bench -- checkpoints`: a count per key over a million keys. Throughput with a
 * checkpoint every second into LevelDB against none (40M records, both in this process, on the
 * main thread; at least 5 runs of each, the best of each); the time of an
 * incremental checkpoint when 1% of the keys changed against a full one; and the time from
 * SIGKILL of a `keyflow run --state-dir` process to its restart processing records again. KEYFLOW_BENCH_CHUNK sets the store's entries per chunk (default 1000):
 * larger chunks finish checkpoints sooner but pause the shard longer per chunk.
 */
export async function checkpointsBenchmark(runs: number): Promise<object> {
  // Long enough for many checkpoints at one a second: the first of a run costs more than the rest
  // (a fresh table is tracked until it shows that most keys change), and a job runs for hours.
  // 20M records (3.5-7 s a run here) gave that one checkpoint a third to a sixth of the run.
  const records = Number(process.env.KEYFLOW_BENCH_RECORDS ?? 40_000_000);
  // Runs in pairs, ABBA order (without, with; with, without; ...). This machine's speed drifts by
  // tens of percent, at times twice, over minutes; drift only slows a run down (one pair measured
  // 1.9: its run without checkpoints fell in a slow phase), so each side's figure is its best run
  // and the ratio is theirs. The median of the pairs' ratios is printed besides.
  const pairs = Math.max(runs, 5);
  const without: number[] = [];
  const withCheckpoints: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < pairs; r++) {
    const order = r % 2 === 0 ? [false, true] : [true, false];
    const measured = new Map<boolean, number>();
    for (const checkpoints of order) measured.set(checkpoints, await throughput(records, checkpoints));
    without.push(measured.get(false) as number);
    withCheckpoints.push(measured.get(true) as number);
    ratios.push((measured.get(true) as number) / (measured.get(false) as number));
    console.log(`  pair ${r + 1}: ratio ${ratios[r]?.toFixed(2)}`);
  }
  const throughputWithout = Math.max(...without);
  const throughputWithCheckpoints = Math.max(...withCheckpoints);
  const throughputRatio = throughputWithCheckpoints / throughputWithout;
  const medianPairRatio = median(ratios);
  console.log(`without checkpoints     ${(throughputWithout / 1e6).toFixed(2)} M records/s (best of ${pairs})`);
  console.log(`checkpoint every 1 s    ${(throughputWithCheckpoints / 1e6).toFixed(2)} M records/s (best of ${pairs})`);
  console.log(
    `ratio                   ${throughputRatio.toFixed(2)} (median of the pairs' ratios: ${medianPairRatio.toFixed(2)})`,
  );
  const times: Array<{ fullMs: number; incrementalMs: number }> = [];
  for (let r = 0; r < runs; r++) times.push(await incrementalVsFull());
  const fullMs = median(times.map((t) => t.fullMs));
  const incrementalMs = median(times.map((t) => t.incrementalMs));
  console.log(
    `full checkpoint, 1M keys ${fullMs.toFixed(0)} ms; incremental, 1% changed ${incrementalMs.toFixed(0)} ms`,
  );
  const recovery = await recoverySeconds();
  console.log(`SIGKILL to processing again, ~1M keys: ${recovery.toFixed(2)} s`);
  return {
    throughputWithCheckpoints: Math.round(throughputWithCheckpoints),
    throughputWithout: Math.round(throughputWithout),
    throughputRatio: round(throughputRatio),
    medianPairRatio: round(medianPairRatio),
    incrementalMs: Math.round(incrementalMs),
    fullMs: Math.round(fullMs),
    incrementalVsFull: round(incrementalMs / fullMs),
    recoverySeconds: round(recovery),
  };
}
