import { execute, runNode } from "@keyflow/runtime";
import { makeEvent, recordCount } from "./keyed-sum-job.js";

/**
 * One measurement of the keyed-sum benchmark in its own process, so peak RSS is its own:
 * `plain` (a loop over the same generator updating a Map), `embedded <parallelism>`, or
 * `node <id> <nats url>` (one of two nodes over NATS).
 * Prints one JSON line: records per second, seconds, peak RSS, and for `plain` the sums' checksum.
 * A Keyflow run's rate counts the time its shards ran; its start-up (loading, worker threads, joining
 * the peer) is printed beside it: about 15 ms on the calling thread, 130 ms for two workers.
 */
const [mode, parallelismArg] = process.argv.slice(2);
const count = recordCount();

if (mode === "plain") {
  const started = performance.now();
  const sums = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const event = makeEvent(i);
    sums.set(event.key, (sums.get(event.key) ?? 0) + event.value);
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(
    JSON.stringify({
      recordsPerSecond: count / seconds,
      seconds,
      peakRssMB: process.resourceUsage().maxRSS / 1024,
      sums: Object.fromEntries(sums),
    }),
  );
} else if (mode === "embedded") {
  const parallelism = Number(parallelismArg ?? 1);
  const job = new URL("./keyed-sum-job.js", import.meta.url);
  const result = await execute(job, { parallelism, workers: parallelism === 1 ? 0 : parallelism });
  printRun(result);
} else if (mode === "node") {
  // One of two nodes of a static cluster: `node <id> <nats url>`, parallelism 2 (one shard per node).
  const [id, natsUrl] = process.argv.slice(3);
  const result = await runNode({
    natsUrl: natsUrl as string,
    job: new URL("./keyed-sum-job.js", import.meta.url),
    node: Number(id),
    nodes: 2,
    parallelism: 2,
  });
  printRun(result);
} else {
  console.error(`unknown mode ${mode}: use "plain", "embedded <parallelism>" or "node <id> <nats url>"`);
  process.exit(2);
}

function printRun(result: { durationMs: number; startupMs: number }): void {
  const seconds = (result.durationMs - result.startupMs) / 1000;
  const peakRssMB = process.resourceUsage().maxRSS / 1024;
  console.log(JSON.stringify({ recordsPerSecond: count / seconds, seconds, startupMs: result.startupMs, peakRssMB }));
}
