import { spawn } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

/** One measured run: records per second and the peak resident memory of the processes involved. */
export interface Measurement {
  readonly recordsPerSecond: number;
  readonly seconds: number;
  readonly peakRssMB: number;
}

/** Runs a child process to completion and parses the JSON object it prints as its last stdout line. */
export function runChild<T>(args: string[], env: NodeJS.ProcessEnv = {}): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
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

/** Merges the per-shard JSON files a run wrote into one map, then removes them. */
export function readSums(dir: string): Map<string, number> {
  const sums = new Map<string, number>();
  for (const file of readdirSync(dir)) {
    const part = JSON.parse(readFileSync(join(dir, file), "utf8")) as Record<string, number>;
    for (const [key, value] of Object.entries(part)) {
      if (sums.has(key)) throw new Error(`key ${key} appears in two shards' results`);
      sums.set(key, value);
    }
  }
  rmSync(dir, { recursive: true, force: true });
  return sums;
}
