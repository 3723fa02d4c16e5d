import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CheckpointStore, execute } from "@keyflow/runtime";
import { throughputJob } from "./checkpoints-job.js";

/**
 * One separate run of the checkpoints benchmark in a fresh process: `<records> none|checkpoints`,
 * the counting job over a million keys with no checkpoints or one every second into LevelDB.
 * A fresh process, because a job's record path is compiled once per process: a second job in
 * the same process runs the code the first one left (measured 8.0-8.4 M records/s for a first
 * run, 6.4-6.6 for the runs after it, checkpoints or not). Prints one JSON line.
 */
const [recordsArg, mode] = process.argv.slice(2);
const records = Number(recordsArg);
const checkpoints = mode === "checkpoints";
const dir = mkdtempSync(join(tmpdir(), "kf-bench-ckpt-"));
const store = checkpoints ? await CheckpointStore.open(dir) : undefined;
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
  console.log(JSON.stringify({ recordsPerSecond: records / (result.durationMs / 1000), completed }));
} finally {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
}
