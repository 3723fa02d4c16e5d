import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import { setEnvironmentData } from "node:worker_threads";
import { CROSS_THREAD_BATCH_FACTOR } from "../../src/channel/port-channel.js";
import { execute, type JobResult } from "../../src/index.js";
import keyedJob, { type CustomerTotal, orderAt, RECORDS, sums, totals } from "../fixtures/keyed-job.js";
import * as slow from "../fixtures/slow-sink-job.js";

const KEYED_JOB = new URL("../fixtures/keyed-job.js", import.meta.url);
const SLOW_SINK_JOB = new URL("../fixtures/slow-sink-job.js", import.meta.url);

/** Each key's last emitted record: with one shard per key and in-order channels, its final result. */
function finals<T>(records: readonly T[], key: (record: T) => string): Map<string, T> {
  const last = new Map<string, T>();
  for (const record of records) last.set(key(record), record);
  return last;
}

function expectedTotals(): Map<string, CustomerTotal> {
  const expected = new Map<string, CustomerTotal>();
  for (let i = 0; i < RECORDS; i++) {
    const { customer, amount } = orderAt(i);
    const before = expected.get(customer);
    expected.set(customer, {
      customer,
      orders: (before?.orders ?? 0) + 1,
      total: (before?.total ?? 0) + amount,
      largest: Math.max(before?.largest ?? 0, amount),
    });
  }
  return expected;
}

function assertKeyedResults(result: JobResult): void {
  assert.equal(result.get(totals).length, RECORDS, "one update per record");
  assert.deepEqual(
    finals(result.get(totals), (t) => t.customer),
    expectedTotals(),
  );
  const sumFinals = finals(result.get(sums), (s) => s.customer);
  for (const [customer, total] of expectedTotals()) assert.equal(sumFinals.get(customer)?.amount, total.total);
}

describe("worker threads", () => {
  it("compute a keyed job's results on two workers exactly as on the calling thread", async () => {
    const onWorkers = await execute(KEYED_JOB, { parallelism: 2, workers: 2 });
    assertKeyedResults(onWorkers);
    const here = await execute(keyedJob, { parallelism: 2 });
    assertKeyedResults(here);
    assert.deepEqual(
      finals(onWorkers.get(totals), (t) => t.customer),
      finals(here.get(totals), (t) => t.customer),
    );
  });

  it("run a job module given as a path string, with more shards than workers", async () => {
    const result = await execute(KEYED_JOB.pathname, { parallelism: 3, workers: 2 });
    assertKeyedResults(result);
  });

  it("start from a script run with node --input-type=module -e", async () => {
    const script = `import { execute } from ${JSON.stringify(new URL("../../src/index.js", import.meta.url).href)};
      const result = await execute(new URL(${JSON.stringify(KEYED_JOB.href)}), { parallelism: 2, workers: 2 });
      console.log(result.collected.get("totals").length);`;
    const { stdout, stderr, code } = await new Promise<{ stdout: string; stderr: string; code: number | null }>(
      (resolve) => {
        const child = spawn(process.execPath, ["--input-type=module", "-e", script]);
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk) => (stdout += chunk));
        child.stderr.on("data", (chunk) => (stderr += chunk));
        child.on("exit", (code) => resolve({ stdout, stderr, code }));
      },
    );
    assert.equal(code, 0, stderr);
    assert.equal(stdout.trim(), String(RECORDS));
  });

  it("keep a fast source's records in flight bounded by credit while the sink on another thread is slow", async () => {
    const shared = new Int32Array(new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT));
    setEnvironmentData(slow.IN_FLIGHT, shared.buffer);
    const batchSize = 100;
    const credit = 4;
    await execute(SLOW_SINK_JOB, { workers: 2, batchSize, credit });
    assert.equal(shared[slow.PRODUCED], slow.RECORDS);
    assert.equal(shared[slow.CONSUMED], slow.RECORDS);
    // One channel: at most its credit in batches, plus the batch being filled and the one being
    // consumed; batches between threads hold CROSS_THREAD_BATCH_FACTOR times the job's batch size.
    // (Without credit the source runs about 58,000 records ahead of this sink.)
    const bound = (credit + 2) * batchSize * CROSS_THREAD_BATCH_FACTOR;
    const maxInFlight = shared[slow.MAX_IN_FLIGHT] as number;
    assert.ok(
      maxInFlight <= bound,
      `${maxInFlight} of ${slow.RECORDS} records were in flight at once (bound ${bound})`,
    );
  });
});
