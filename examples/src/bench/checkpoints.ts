import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CheckpointStore, execute, type JobControl } from "@keyflow/runtime";
import { KEYS, PhasedSource, phasedJob } from "./checkpoints-job.js";
import { type AlternatingThroughput, alternatingThroughput } from "./checkpoints-phases.js";
import { round, runChild } from "./measure.js";

const CLI = fileURLToPath(new URL("./cli/main.js", import.meta.resolve("@keyflow/runtime")));
const RECOVERY_JOB = fileURLToPath(new URL("./checkpoints-recovery-job.js", import.meta.url));
const THROUGHPUT_CHILD = fileURLToPath(new URL("./checkpoints-child.js", import.meta.url));

/** Records per second of one separate run in a fresh process (checkpoints-child.ts). */
async function throughput(records: number, checkpoints: boolean): Promise<number> {
  const run = await runChild<{ recordsPerSecond: number; completed: number }>([
    THROUGHPUT_CHILD,
    String(records),
    checkpoints ? "checkpoints" : "none",
  ]);
  if (checkpoints) console.log(`  (${run.completed} checkpoints completed during the run)`);
  return run.recordsPerSecond;
}

function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "kf-bench-ckpt-"));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A full checkpoint of a million keys, then two incremental ones, each after another 1% of the
 * keys changed: ms from trigger to complete. The first incremental checkpoint of a process runs
 * its code for the first time (the tracked read, the block encoding, unoptimized): it is printed
 * apart, and the second is the figure, as in a job that has been running.
 */
async function incrementalVsFull(): Promise<{
  fullMs: number;
  firstIncrementalMs: number;
  secondIncrementalMs: number;
  incrementalMs: number;
}> {
  const { dir, remove } = tempDir();
  const store = await CheckpointStore.open(dir);
  const changed = KEYS / 100;
  const source = new PhasedSource([KEYS, changed, changed, changed, 1]);
  const processed = { count: 0 };
  let control: JobControl | undefined;
  const waitFor = async (count: number) => {
    while (processed.count < count) await new Promise((resolve) => setTimeout(resolve, 5));
  };
  const timed = async () => {
    const started = performance.now();
    await (control as JobControl).checkpoint();
    return performance.now() - started;
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
    const fullMs = await timed(); // each shard's first snapshot is full
    source.release();
    await waitFor(KEYS + changed);
    // The table's first copy put it in copy mode: this copy, compared with it, is the snapshot
    // (what differs), and sends the table to tracking.
    const firstIncrementalMs = await timed();
    source.release();
    await waitFor(KEYS + 2 * changed);
    // Tracked changes, their code's first run in the process; the next is the figure.
    const secondIncrementalMs = await timed();
    source.release();
    await waitFor(KEYS + 3 * changed);
    const incrementalMs = await timed();
    source.release();
    source.release();
    await run;
    return { fullMs, firstIncrementalMs, secondIncrementalMs, incrementalMs };
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
 * `npm run bench -- checkpoints`: a count per key over a million keys, on the main thread.
 *
 * Throughput with a checkpoint every second into LevelDB against none, two ways:
 * - the figure of record: separate runs of 100M records, each in a fresh process (as a user runs
 *   a job), in alternating pairs; each side's median, and the median of the pairs' ratios. A run
 *   holds about nine checkpoint intervals: the cost of checkpointing as a running job pays it,
 *   not mostly the first checkpoint's one-off costs (its copy's memory faulted in, about 80 ms;
 *   until copy mode began comparing copies, a tracked interval and a recompilation too, about
 *   300 ms), as 40M records (3.5 s, three checkpoints) measured once the record path got faster;
 * - one long run in alternating phases of 4 s, none then a checkpoint every second
 *   (alternatingThroughput): the cost of checkpointing with the record path's code as it is,
 *   machine drift cancelled. Until the record path loaded its state a chunk at a time (session
 *   8) this read higher than separate runs: the deoptimizations of a first checkpoint left a
 *   slower compilation for the rest of the process, phases without checkpoints included.
 * Then the time of an incremental checkpoint when 1% of the keys changed against a full one: the
 * run's third incremental one, the second from tracked changes. The first (by comparing copies)
 * and the second (the first from tracked changes) are printed besides: each kind runs its code
 * for the first time in the process there, as session 7's bench skipped its first incremental
 * checkpoint for the same reason; and
 * the time from SIGKILL of a `keyflow run --state-dir` process to its restart processing records
 * again.
 */
export async function checkpointsBenchmark(runs: number): Promise<object> {
  const phaseMs = Number(process.env.KEYFLOW_BENCH_PHASE_MS ?? 4_000);
  const cycles = Number(process.env.KEYFLOW_BENCH_CYCLES ?? 8);
  const { dir, remove } = tempDir();
  let alternating: AlternatingThroughput;
  try {
    alternating = await alternatingThroughput(dir, phaseMs, cycles);
  } finally {
    remove();
  }
  for (const [i, phase] of alternating.phases.entries()) {
    const background =
      phase.backgroundCpuMs === undefined ? "" : `, other threads ${Math.round(phase.backgroundCpuMs)} ms CPU`;
    console.log(
      `  phase ${String(i + 1).padStart(2)} ${phase.checkpoints ? "checkpoints" : "none       "} ${(phase.records / phase.ms / 1000).toFixed(2)} M records/s${background}`,
    );
  }
  const throughputRatio = alternating.withCheckpoints / alternating.without;
  const medianPhaseRatio = median([...alternating.phaseRatios]);
  console.log(`alternating phases of ${phaseMs / 1000} s in one run (${cycles} with checkpoints):`);
  console.log(`  without checkpoints     ${(alternating.without / 1e6).toFixed(2)} M records/s`);
  console.log(`  checkpoint every 1 s    ${(alternating.withCheckpoints / 1e6).toFixed(2)} M records/s`);
  console.log(
    `  ratio                   ${throughputRatio.toFixed(2)} (each phase against its neighbours: ${alternating.phaseRatios.map((r) => r.toFixed(2)).join(" ")}; median ${medianPhaseRatio.toFixed(2)})`,
  );

  // Separate runs in pairs, ABBA order (without, with; with, without; ...), each in a fresh process.
  const records = Number(process.env.KEYFLOW_BENCH_RECORDS ?? 100_000_000);
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
  const separateWithout = median(without);
  const separateWith = median(withCheckpoints);
  const separateRatio = separateWith / separateWithout;
  const medianPairRatio = median(ratios);
  console.log(`separate runs of ${records / 1e6}M records, each in a fresh process (median of ${pairs} each):`);
  console.log(`  without checkpoints     ${(separateWithout / 1e6).toFixed(2)} M records/s`);
  console.log(`  checkpoint every 1 s    ${(separateWith / 1e6).toFixed(2)} M records/s`);
  console.log(
    `  ratio                   ${separateRatio.toFixed(2)} (median of the pairs' ratios: ${medianPairRatio.toFixed(2)}; best against best ${(Math.max(...withCheckpoints) / Math.max(...without)).toFixed(2)})`,
  );

  const times: Array<{
    fullMs: number;
    firstIncrementalMs: number;
    secondIncrementalMs: number;
    incrementalMs: number;
  }> = [];
  for (let r = 0; r < runs; r++) times.push(await incrementalVsFull());
  const fullMs = median(times.map((t) => t.fullMs));
  const firstIncrementalMs = median(times.map((t) => t.firstIncrementalMs));
  const secondIncrementalMs = median(times.map((t) => t.secondIncrementalMs));
  const incrementalMs = median(times.map((t) => t.incrementalMs));
  console.log(
    `full checkpoint, 1M keys ${fullMs.toFixed(0)} ms; incremental, 1% changed ${incrementalMs.toFixed(0)} ms (the process's first, by comparing copies, ${firstIncrementalMs.toFixed(0)} ms; its second, the first from tracked changes, ${secondIncrementalMs.toFixed(0)} ms)`,
  );
  const recovery = await recoverySeconds();
  console.log(`SIGKILL to processing again, ~1M keys: ${recovery.toFixed(2)} s`);
  return {
    throughputWithCheckpoints: Math.round(separateWith),
    throughputWithout: Math.round(separateWithout),
    throughputRatio: round(separateRatio),
    medianPairRatio: round(medianPairRatio),
    phaseRatio: round(throughputRatio),
    medianPhaseRatio: round(medianPhaseRatio),
    incrementalMs: Math.round(incrementalMs),
    firstIncrementalMs: Math.round(firstIncrementalMs),
    secondIncrementalMs: Math.round(secondIncrementalMs),
    fullMs: Math.round(fullMs),
    incrementalVsFull: round(incrementalMs / fullMs),
    recoverySeconds: round(recovery),
  };
}
