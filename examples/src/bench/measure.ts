import { spawn } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

/**
 * One measured run: records per second while the job ran (start-up excluded, as engines measure
 * throughput), the seconds it ran, its start-up, and the peak resident memory of the processes involved.
 */
export interface Measurement {
  readonly recordsPerSecond: number;
  readonly seconds: number;
  readonly peakRssMB: number;
  /** Before any shard ran: loading, planning, starting worker threads or joining peers. */
  readonly startupMs?: number;
}

/** Runs a child process to completion and parses the JSON object it prints as its last stdout line. */
export function runChild<T>(args: string[], env: NodeJS.ProcessEnv = {}): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...(process.env.KEYFLOW_BENCH_NODE_FLAGS?.split(" ").filter((f) => f !== "") ?? []), ...args],
      {
        env: { ...process.env, ...env },
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (process.env.KEYFLOW_BENCH_ECHO === "1") process.stderr.write(chunk);
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      const last = out.trim().split("\n").at(-1) ?? "";
      if (code !== 0) return reject(new Error(`${args.join(" ")} exited with ${code}: ${last}`));
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`${args.join(" ")} printed no JSON result: ${last}`));
      }
    });
  });
}

/** The median of runs, by throughput. */
export function median(runs: Measurement[]): Measurement {
  const sorted = [...runs].sort((a, b) => a.recordsPerSecond - b.recordsPerSecond);
  return sorted[Math.floor(sorted.length / 2)] as Measurement;
}

/** What the benchmark's sinks wrote: records seen and the sampled keys' final sums, merged over shards. */
export interface SinkCheck {
  readonly count: number;
  readonly sums: Map<string, number>;
}

/** Merges the per-shard JSON files a run wrote, then removes them. */
export function readSinkCheck(dir: string): SinkCheck {
  const sums = new Map<string, number>();
  let count = 0;
  for (const file of readdirSync(dir)) {
    const part = JSON.parse(readFileSync(join(dir, file), "utf8")) as { count: number; sums: Record<string, number> };
    count += part.count;
    for (const [key, value] of Object.entries(part.sums)) {
      if (sums.has(key)) throw new Error(`key ${key} appears in two shards' results`);
      sums.set(key, value);
    }
  }
  rmSync(dir, { recursive: true, force: true });
  return { count, sums };
}

/**
 * Prints the median run, the range over runs (this machine's speed drifts by a third over
 * minutes), and the ratio to the baseline; `width` pads the name so a benchmark's lines align.
 */
export function report(name: string, runs: Measurement[], baseline?: Measurement, width = 28): void {
  const m = median(runs);
  const rates = runs.map((run) => run.recordsPerSecond / 1e6);
  const range = runs.length > 1 ? ` (${Math.min(...rates).toFixed(2)}–${Math.max(...rates).toFixed(2)})` : "";
  const ratio = baseline === undefined ? "" : `  ratio ${(m.recordsPerSecond / baseline.recordsPerSecond).toFixed(2)}`;
  const startup = m.startupMs === undefined ? "" : ` + ${m.startupMs.toFixed(0)} ms start-up`;
  console.log(
    `${name.padEnd(width)} ${(m.recordsPerSecond / 1e6).toFixed(2).padStart(6)} M records/s${range}  ${m.seconds.toFixed(2)} s${startup}  peak RSS ${m.peakRssMB.toFixed(0)} MB${ratio}`,
  );
}

/** Two decimals, for the JSON figures. */
export function round(x: number): number {
  return Math.round(x * 100) / 100;
}
