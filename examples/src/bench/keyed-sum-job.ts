import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { defineJob, type Sink } from "@keyflow/functions-sdk";

/** One generated record of the keyed-sum benchmark. */
export interface SumEvent {
  readonly key: string;
  readonly value: number;
}

export const KEYS = 10_000;

/**
 * Record i of the benchmark: a pseudo-random key among 10,000 and a small value, both a pure
 * function of i, so the records are the same whatever the parallelism and the plain loop
 * computes exactly the sums Keyflow must reach. The key string is made per record, as a
 * deserialised input would be.
 */
export function makeEvent(i: number): SumEvent {
  return { key: `key-${(Math.imul(i, 0x9e3779b1) >>> 0) % KEYS}`, value: (i % 7) + 1 };
}

export function recordCount(): number {
  return Number(process.env.KEYFLOW_BENCH_RECORDS ?? 10_000_000);
}

/**
 * The benchmark's sink: counts records and keeps the last value of the 100 sampled keys
 * key-0 … key-99 (recognised by length, so the other 99% cost one comparison), written to a JSON
 * file per shard when it closes. The runner checks the count and the sampled final sums against
 * the plain loop: a lost, doubled or wrong update of a sampled key shows, without a second full
 * map per record weighing on the figure being measured.
 */
function checkingSink(dir: string): Sink<SumEvent> {
  return {
    createWriter(context) {
      const last = new Map<string, number>();
      let count = 0;
      return {
        write(event) {
          count++;
          if (event.key.length <= 6) last.set(event.key, event.value);
        },
        close() {
          mkdirSync(dir, { recursive: true });
          writeFileSync(
            join(dir, `shard-${context.shardIndex}.json`),
            JSON.stringify({ count, sums: Object.fromEntries(last) }),
          );
        },
      };
    },
  };
}

/**
 * The benchmark job: a keyed rolling sum over generated records. Parallelism comes from the
 * runner (`--parallelism`); each shard's check figures are written under KEYFLOW_BENCH_OUT.
 */
export default defineJob({ name: "bench-keyed-sum" }, (env) => {
  env
    .generate<SumEvent>({ count: recordCount(), make: makeEvent })
    .keyBy((event) => event.key)
    .sum("value")
    .sinkTo(checkingSink(process.env.KEYFLOW_BENCH_OUT ?? "/tmp/keyflow-bench"));
});
