import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type Collector,
  collectionSource,
  collectSink,
  defineJob,
  type KeyPrimitive,
  mapState,
  reducingState,
  valueState,
} from "@keyflow/functions-sdk";
import fc from "fast-check";
import { execute } from "../../src/index.js";

interface Event {
  readonly key: KeyPrimitive;
  readonly value: number;
}
interface KeyResult {
  readonly key: string;
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly histogram: Array<[number, number]>;
}

const PARALLELISMS = [1, 2, 3, 4, 7];

/** A keyed job whose results, per key, do not depend on the order of the key's records. */
function jobOver(events: readonly Event[], maxParallelism: number) {
  const results = collectSink<KeyResult>("results");
  const maxima = collectSink<Event>("maxima");
  const job = defineJob("rescale", (env) => {
    env.setMaxParallelism(maxParallelism);
    const keyed = env.fromSource(collectionSource(events), "Events").keyBy((e) => e.key);
    keyed
      .process({
        state: {
          count: valueState<number>({ defaultValue: 0 }),
          sum: reducingState<number>((a, b) => a + b),
          min: reducingState<number>((a, b) => Math.min(a, b)),
          histogram: mapState<number, number>(),
        },
        processElement(event, ctx, out: Collector<KeyResult>) {
          ctx.state.count.update((ctx.state.count.value() ?? 0) + 1);
          ctx.state.sum.add(event.value);
          ctx.state.min.add(event.value);
          ctx.state.histogram.put(event.value, (ctx.state.histogram.get(event.value) ?? 0) + 1);
          out.collect({
            key: typeof ctx.key === "bigint" ? `${ctx.key}n` : JSON.stringify(ctx.key),
            count: ctx.state.count.value() ?? 0,
            sum: ctx.state.sum.get() ?? 0,
            min: ctx.state.min.get() ?? 0,
            histogram: ctx.state.histogram.entries().sort((a, b) => a[0] - b[0]),
          });
        },
      })
      .name("PerKey")
      .collect(results);
    keyed.max("value").name("Max").collect(maxima);
  });
  return { job, results, maxima };
}

/** Each key's last emitted result: the final one, since a key lives on one shard and channels keep order. */
function finalByKey<T>(records: readonly T[], key: (record: T) => string): Map<string, T> {
  const last = new Map<string, T>();
  for (const record of records) last.set(key(record), record);
  return new Map([...last.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

const keyOf = (key: KeyPrimitive) => (typeof key === "bigint" ? `${key}n` : JSON.stringify(key));

describe("rescaling", () => {
  it("changes parallelism, not results: a keyed job's final per-key results are equal at parallelism 1, 2, 3, 4 and 7", async () => {
    const event = fc.record({
      key: fc.oneof(
        fc.constantFrom("a", "b", "c", "sensor_1", "😀"),
        fc.integer({ min: -3, max: 40 }),
        fc.constantFrom(true, 7n),
      ),
      value: fc.integer({ min: -100, max: 100 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(event, { minLength: 1, maxLength: 300 }),
        fc.constantFrom(7, 16, 128),
        async (events, maxParallelism) => {
          const runs = [];
          for (const parallelism of PARALLELISMS) {
            const { job, results, maxima } = jobOver(events, maxParallelism);
            const result = await execute(job, { parallelism, batchSize: 7 });
            assert.equal(result.get(results).length, events.length, `parallelism ${parallelism}: one result per event`);
            runs.push({
              parallelism,
              results: finalByKey(result.get(results), (r) => r.key),
              maxima: finalByKey(result.get(maxima), (e) => keyOf(e.key)),
            });
          }
          const [first, ...others] = runs;
          for (const run of others) {
            assert.deepEqual(run.results, first?.results, `parallelism ${run.parallelism} vs 1`);
            assert.deepEqual(
              [...run.maxima].map(([k, e]) => [k, e.value]),
              [...(first?.maxima ?? [])].map(([k, e]) => [k, e.value]),
            );
          }
          // And the results are the right ones, not merely equal.
          const expectedSums = new Map<string, number>();
          for (const e of events) expectedSums.set(keyOf(e.key), (expectedSums.get(keyOf(e.key)) ?? 0) + e.value);
          assert.deepEqual(
            new Map([...(first?.results ?? [])].map(([k, r]) => [k, r.sum])),
            new Map([...expectedSums].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
          );
        },
      ),
      { numRuns: 30 },
    );
  });
});
