import { execute } from "@keyflow/runtime";
import { plainLoop, ResultCheck, windowsJob } from "./windows-job.js";

/**
 * One measurement of the windows benchmark in its own process (run with --expose-gc):
 * `plain <records>` or `keyflow <records>`. Prints one JSON line: records per second, seconds,
 * heap used before the run and once every window has fired (both after a full GC), the number of
 * window results and the sampled counts.
 */
const [mode, recordsArg] = process.argv.slice(2);
const records = Number(recordsArg);

function heapMB(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) {
    gc();
    gc();
  }
  return process.memoryUsage().heapUsed / 2 ** 20;
}

const check = new ResultCheck();
const heapStartMB = heapMB();
let heapEndMB = Number.NaN;
let seconds: number;
if (mode === "plain") {
  const started = performance.now();
  plainLoop(records, check);
  seconds = (performance.now() - started) / 1000;
  heapEndMB = heapMB();
} else if (mode === "keyflow") {
  // Measured when the sink flushes at end of input: every window has fired, and the job's shards,
  // state and timers are all still alive, so state kept for fired windows would show.
  const job = windowsJob(records, check, () => {
    heapEndMB = heapMB();
  });
  const result = await execute(job, { parallelism: 1, workers: 0 });
  seconds = result.durationMs / 1000;
} else {
  console.error(`unknown mode ${mode}: use "plain <records>" or "keyflow <records>"`);
  process.exit(2);
}
console.log(
  JSON.stringify({
    recordsPerSecond: records / seconds,
    seconds,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    heapStartMB,
    heapEndMB,
    results: check.results,
    sample: check.sample(),
  }),
);
