import { existsSync, readdirSync, readFileSync } from "node:fs";
import { CheckpointStore, execute, type JobControl } from "@keyflow/runtime";
import { KEYS, throughputJob } from "./checkpoints-job.js";

/** One phase of an alternating run: whether it took checkpoints, records and ms, and other threads' CPU ms. */
export interface Phase {
  readonly checkpoints: boolean;
  readonly records: number;
  readonly ms: number;
  readonly backgroundCpuMs: number | undefined;
}

export interface AlternatingThroughput {
  readonly phases: readonly Phase[];
  /** Records per second over all phases with checkpoints, and over all without. */
  readonly withCheckpoints: number;
  readonly without: number;
  /** Each phase with checkpoints against the mean of the phases either side of it. */
  readonly phaseRatios: readonly number[];
}

/**
 * The counting job over a million keys in one long run, in alternating phases of `phaseMs`: no
 * checkpoints, then one every second into LevelDB, and so on, beginning and ending without.
 *
 * Why one run: this machine's speed drifts by tens of percent over tens of seconds (separate runs
 * of the same configuration a minute apart differ by up to 2×), so two configurations measured in
 * turn mostly measure the drift. Phases a few seconds long, each compared with its neighbours,
 * see the same machine. The state, the process and the heap are the same in both kinds of phase;
 * what differs is only the checkpoints: their copy at the mark, the tracking the table does
 * when it remeasures, and the encoder and LevelDB threads competing for the machine. A warm-up
 * first loads the million keys and takes three checkpoints (the first of a fresh table costs
 * more: a job runs for hours).
 */
export async function alternatingThroughput(
  dir: string,
  phaseMs: number,
  cycles: number,
): Promise<AlternatingThroughput> {
  const store = await CheckpointStore.open(dir);
  const processed = { count: 0 };
  let control: JobControl | undefined;
  const run = execute(
    throughputJob(2 ** 31 - 1, () => {
      processed.count++;
    }),
    {
      workers: 0,
      // Never by itself: the phases trigger each checkpoint.
      checkpoints: { intervalMs: 1_000_000_000, storage: store },
      onControl: (c) => {
        control = c;
      },
    },
  );
  let failed: unknown;
  run.catch((error: unknown) => {
    failed = error;
  });
  const sleepUntil = async (at: number) => {
    while (performance.now() < at) {
      if (failed !== undefined) throw failed;
      await new Promise((resolve) => setTimeout(resolve, Math.min(50, at - performance.now())));
    }
  };
  const checkpointEverySecond = async (ms: number) => {
    const start = performance.now();
    for (let at = start; at < start + ms; at += 1_000) {
      await sleepUntil(at);
      await (control as JobControl).checkpoint();
    }
    await sleepUntil(start + ms);
  };
  try {
    while (control === undefined || processed.count < KEYS) await sleepUntil(performance.now() + 20);
    await checkpointEverySecond(3_000);
    const phases: Phase[] = [];
    for (let p = 0; p < 2 * cycles + 1; p++) {
      const checkpoints = p % 2 === 1;
      const records = processed.count;
      const cpu = backgroundCpuMs();
      const started = performance.now();
      if (checkpoints) await checkpointEverySecond(phaseMs);
      else await sleepUntil(started + phaseMs);
      const after = backgroundCpuMs();
      phases.push({
        checkpoints,
        records: processed.count - records,
        ms: performance.now() - started,
        backgroundCpuMs: cpu === undefined || after === undefined ? undefined : after - cpu,
      });
    }
    await (control as JobControl).stopWithSavepoint();
    await run;
    const rate = (phase: Phase | undefined) => (phase === undefined ? 0 : phase.records / (phase.ms / 1000));
    const total = (checkpoints: boolean) => {
      const of = phases.filter((phase) => phase.checkpoints === checkpoints);
      return of.reduce((sum, phase) => sum + phase.records, 0) / (of.reduce((sum, phase) => sum + phase.ms, 0) / 1000);
    };
    const phaseRatios: number[] = [];
    for (let p = 1; p < phases.length; p += 2) {
      phaseRatios.push(rate(phases[p]) / ((rate(phases[p - 1]) + rate(phases[p + 1])) / 2));
    }
    return { phases, withCheckpoints: total(true), without: total(false), phaseRatios };
  } finally {
    await store.close();
  }
}

/** CPU ms of this process's threads other than the main one (Linux: /proc/self/task); undefined elsewhere. */
function backgroundCpuMs(): number | undefined {
  if (!existsSync("/proc/self/task")) return undefined;
  let ticks = 0;
  for (const thread of readdirSync("/proc/self/task")) {
    if (thread === String(process.pid)) continue;
    try {
      const stat = readFileSync(`/proc/self/task/${thread}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}
