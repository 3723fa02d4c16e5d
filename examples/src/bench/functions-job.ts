import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { defineFunction, defineJob, egress, type Sink, valueState } from "@keyflow/functions-sdk";
import { build, encodeIntoCompressedBase64 } from "hdr-histogram-js";

/**
 * The functions benchmark's job: `KEYFLOW_BENCH_RECORDS` messages (default 12M, a multiple of
 * 10,000) over 10,000 keys, ingress → a per-key counter function → egress → a checking sink.
 * Each message carries the wall-clock time the generator made it (its ingress time); with
 * `KEYFLOW_BENCH_LATENCY=1` the sink records, for every egress record it receives, the time from
 * ingress to its receipt in an HDR histogram (µs, 3 significant digits). `KEYFLOW_BENCH_RATE`
 * paces the generator (messages per second over all its shards). Each sink shard writes its
 * figures to `KEYFLOW_BENCH_OUT/shard-<i>.json` when it closes (see `readFunctionsSinks`).
 */
export const KEYS = 10_000;
export const records = (): number => Number(process.env.KEYFLOW_BENCH_RECORDS ?? 12_000_000);
const RATE = process.env.KEYFLOW_BENCH_RATE === undefined ? undefined : Number(process.env.KEYFLOW_BENCH_RATE);
const LATENCY = process.env.KEYFLOW_BENCH_LATENCY === "1";

/** Wall-clock ms with sub-ms precision, comparable across threads and processes of this machine. */
export const wallNow = (): number => performance.timeOrigin + performance.now();

export interface CountOut {
  readonly id: string;
  readonly count: number;
  /** Ingress time of the message that made this count (wall-clock ms). */
  readonly at: number;
}
const counts = egress<CountOut>("counts");

const counter = defineFunction({
  type: "bench/counter",
  state: { count: valueState<number>() },
  handle(ctx, message: { readonly at: number }) {
    const count = (ctx.state.count.value() ?? 0) + 1;
    ctx.state.count.update(count);
    ctx.egress(counts, { id: ctx.self.id, count, at: message.at });
  },
});

/** What one sink shard saw, written as JSON when it closes. */
export interface FunctionsSinkFile {
  /** Egress records received. */
  readonly received: number;
  /** Keys whose count reached the expected final value (each once). */
  readonly finals: number;
  /** Records whose count went past the final value, or a final value reached twice: doubled work. */
  readonly over: number;
  /** Ingress → egress receipt in µs, compressed HDR histogram (with KEYFLOW_BENCH_LATENCY=1). */
  readonly histogram?: string;
  /** Worst latency (ms) per 100 ms of the run, from the sink's first record (with KEYFLOW_BENCH_LATENCY=1). */
  readonly worstPer100Ms?: number[];
  /** Wall-clock ms of the sink's first record. */
  readonly firstAt?: number;
}

/**
 * The benchmark's sink. Every record is checked (a key's count may reach its final value once
 * and never pass it), so a lost or doubled message shows; latency costs a clock read and a
 * histogram update per record only in latency runs.
 */
function checkingSink(dir: string, perKey: number): Sink<CountOut> {
  return {
    createWriter(context) {
      const finals = new Set<string>();
      let received = 0;
      let over = 0;
      const histogram = LATENCY
        ? build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 })
        : undefined;
      const worst: number[] = [];
      let firstAt = 0;
      return {
        write(value) {
          received++;
          if (value.count >= perKey) {
            if (value.count > perKey || finals.has(value.id)) over++;
            else finals.add(value.id);
          }
          if (histogram !== undefined) {
            const now = wallNow();
            if (firstAt === 0) firstAt = now;
            const ms = now - value.at;
            histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
            const slot = Math.floor((now - firstAt) / 100);
            if (!(ms <= (worst[slot] ?? 0))) worst[slot] = Math.round(ms * 100) / 100;
          }
        },
        close() {
          mkdirSync(dir, { recursive: true });
          const file: FunctionsSinkFile = {
            received,
            finals: finals.size,
            over,
            ...(histogram === undefined
              ? {}
              : {
                  histogram: encodeIntoCompressedBase64(histogram),
                  worstPer100Ms: Array.from(worst, (w) => w ?? 0),
                  firstAt,
                }),
          };
          writeFileSync(join(dir, `shard-${context.shardIndex}.json`), JSON.stringify(file));
        },
      };
    },
  };
}

export default defineJob("bench-functions", (env) => {
  const perKey = records() / KEYS;
  env
    .generate({
      count: records(),
      ...(RATE === undefined ? {} : { ratePerSecond: RATE }),
      make: (i) => ({ key: `k${i % KEYS}`, at: wallNow() }),
    })
    .toFunctions({
      functions: [counter],
      route: (m) => ({ to: counter.address(m.key), message: { at: m.at } }),
    })
    .uid("counters")
    .egress(counts)
    .sinkTo(checkingSink(process.env.KEYFLOW_BENCH_OUT ?? "/tmp/keyflow-bench-functions", perKey));
});
