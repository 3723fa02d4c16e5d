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

/** Keeps the last value per key of each shard and writes it to a JSON file when the shard closes. */
function lastValueSink(dir: string): Sink<SumEvent> {
  return {
    createWriter(context) {
      const last = new Map<string, number>();
      return {
        write(event) {
          last.set(event.key, event.value);
        },
        close() {
          mkdirSync(dir, { recursive: true });
          writeFileSync(join(dir, `shard-${context.shardIndex}.json`), JSON.stringify(Object.fromEntries(last)));
        },
      };
    },
  };
}

/**
 * The benchmark job: a keyed rolling sum over generated records. Parallelism comes from the
 * runner (`--parallelism`); the final sum of every key is written under KEYFLOW_BENCH_OUT.
 */
export default defineJob({ name: "bench-keyed-sum" }, (env) => {
  env
    .generate<SumEvent>({ count: recordCount(), make: makeEvent })
    .keyBy((event) => event.key)
    .sum("value")
    .sinkTo(lastValueSink(process.env.KEYFLOW_BENCH_OUT ?? "/tmp/keyflow-bench"));
});
