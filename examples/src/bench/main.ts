import { checkpointsBenchmark } from "./checkpoints.js";
import { functionsBenchmark } from "./functions.js";
import { keyedSumBenchmark } from "./keyed-sum.js";
import { windowsBenchmark } from "./windows.js";

/**
 * `npm run bench [-- <name>]`: runs a benchmark and prints its figures, the last line one JSON
 * object. Benchmarks measure their own baseline in the same run and print ratios against it.
 * KEYFLOW_BENCH_RUNS sets the runs per figure (median; default 3); KEYFLOW_BENCH_RECORDS the records
 * per run (`npm run bench -- windows 1000000` also takes it as an argument).
 */
const benchmarks: Record<string, (runs: number) => Promise<object>> = {
  "keyed-sum": keyedSumBenchmark,
  windows: (runs) => windowsBenchmark(runs),
  checkpoints: checkpointsBenchmark,
  functions: functionsBenchmark,
};

const name = process.argv[2] ?? "keyed-sum";
const benchmark = benchmarks[name];
if (benchmark === undefined) {
  console.error(`unknown benchmark "${name}"; known: ${Object.keys(benchmarks).join(", ")}`);
  process.exit(2);
}
const runs = Number(process.env.KEYFLOW_BENCH_RUNS ?? 3);
const figures = await benchmark(runs);
console.log(JSON.stringify(figures));
