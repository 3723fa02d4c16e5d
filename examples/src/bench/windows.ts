import { type Measurement, median, report, round, runChild } from "./measure.js";

const CHILD = new URL("./windows-child.js", import.meta.url).pathname;

/** What a child run of the windows benchmark prints. */
interface WindowsRun extends Measurement {
  readonly heapStartMB: number;
  readonly heapEndMB: number;
  readonly results: number;
  readonly sample: Record<string, number>;
}

/** The figures of `npm run bench -- windows`; the last line printed is this object as JSON. */
export interface WindowsFigures {
  readonly plainLoop: number;
  readonly keyflow: number;
  readonly ratio: number;
  readonly heapStartMB: number;
  readonly heapEndMB: number;
}

/** Records per run: `npm run bench -- windows <records>`, else KEYFLOW_BENCH_RECORDS, else 10M. */
export function windowsRecordCount(): number {
  const fromArgs = process.argv[2] === "windows" ? process.argv[3] : undefined;
  return Number(fromArgs ?? process.env.KEYFLOW_BENCH_RECORDS ?? 10_000_000);
}

/**
 * `npm run bench -- windows`: counts events per key over sliding 10 s windows every 1 s, for 10M
 * generated records and 10,000 keys, as a plain loop and as a Keyflow job (embedded, parallelism
 * 1, on one thread like the loop), each the median of `runs` runs in fresh processes with
 * --expose-gc. Every Keyflow run must emit as many window results as the loop and the same counts
 * for the 100 sampled keys in every window; heap is measured before and once every window fired.
 */
export async function windowsBenchmark(runs: number, records = windowsRecordCount()): Promise<WindowsFigures> {
  const child = (mode: string) => runChild<WindowsRun>(["--expose-gc", CHILD, mode, String(records)]);
  const plainRuns: WindowsRun[] = [];
  for (let r = 0; r < runs; r++) plainRuns.push(await child("plain"));
  const expected = plainRuns[0] as WindowsRun;
  report("plain loop", plainRuns, undefined, 22);

  const keyflowRuns: WindowsRun[] = [];
  for (let r = 0; r < runs; r++) {
    const run = await child("keyflow");
    check(run, expected);
    keyflowRuns.push(run);
  }
  const plain = median(plainRuns);
  const keyflow = median(keyflowRuns) as WindowsRun;
  report("keyflow embedded p1", keyflowRuns, plain, 22);
  console.log(
    `keyflow heap used: ${keyflow.heapStartMB.toFixed(1)} MB at start, ${keyflow.heapEndMB.toFixed(1)} MB once every window fired` +
      ` (${expected.results} window results, ${Object.keys(expected.sample).length} sampled and equal)`,
  );
  return {
    plainLoop: Math.round(plain.recordsPerSecond),
    keyflow: Math.round(keyflow.recordsPerSecond),
    ratio: round(keyflow.recordsPerSecond / plain.recordsPerSecond),
    heapStartMB: round(keyflow.heapStartMB),
    heapEndMB: round(keyflow.heapEndMB),
  };
}

/** The Keyflow run emitted every window result the loop did, with the same sampled counts. */
function check(actual: WindowsRun, expected: WindowsRun): void {
  if (actual.results !== expected.results) {
    throw new Error(`keyflow emitted ${actual.results} window results, the plain loop ${expected.results}`);
  }
  const want = Object.entries(expected.sample);
  const got = actual.sample;
  if (Object.keys(got).length !== want.length) {
    throw new Error(
      `keyflow sampled ${Object.keys(got).length} windows of key-0…key-99, the plain loop ${want.length}`,
    );
  }
  for (const [window, count] of want) {
    if (got[window] !== count) throw new Error(`${window}: keyflow counted ${got[window]}, the plain loop ${count}`);
  }
  if (!Number.isFinite(actual.heapEndMB)) throw new Error("the Keyflow run never flushed its sink");
}
