import { collectSink, defineFunction, defineJob, egress, valueState } from "@keyflow/functions-sdk";

/**
 * The functions benchmark's job: `KEYFLOW_BENCH_RECORDS` messages (default 1M) over 10,000 keys,
 * ingress → a per-key counter function → egress. Each message carries the wall-clock time it was
 * generated; the counter measures ingress → handler latency when it emits. Only each key's final
 * count goes to the sink (and, with `KEYFLOW_BENCH_SAMPLE=n`, every n-th count per key with its
 * latency), so collecting does not weigh on the figures. `KEYFLOW_BENCH_RATE` bounds the generator
 * (messages per second over all its shards).
 */
export const KEYS = 10_000;
export const records = (): number => Number(process.env.KEYFLOW_BENCH_RECORDS ?? 1_000_000);
const RATE = process.env.KEYFLOW_BENCH_RATE === undefined ? undefined : Number(process.env.KEYFLOW_BENCH_RATE);
const SAMPLE = Number(process.env.KEYFLOW_BENCH_SAMPLE ?? 0);

/** Wall-clock ms with sub-ms precision, comparable across threads and processes of this machine. */
export const wallNow = (): number => performance.timeOrigin + performance.now();

export interface CountOut {
  readonly id: string;
  readonly count: number;
  readonly latencyMs: number;
}
const counts = egress<CountOut>("counts");
export const countSink = collectSink<CountOut>("counts");

const counter = defineFunction({
  type: "bench/counter",
  state: { count: valueState<number>() },
  handle(ctx, message: { readonly at: number }) {
    const count = (ctx.state.count.value() ?? 0) + 1;
    ctx.state.count.update(count);
    ctx.egress(counts, { id: ctx.self.id, count, latencyMs: wallNow() - message.at });
  },
});

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
    .filter((c) => c.count === perKey || (SAMPLE > 0 && c.count % SAMPLE === 0))
    .collect(countSink);
});
