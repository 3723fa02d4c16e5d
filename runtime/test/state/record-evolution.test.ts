import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Collector, collectSink, defineJob, mapState, valueState } from "@keyflow/functions-sdk";
import { SavepointRuns } from "../helpers/savepoint-runs.js";

/*
 * Version 1 of a job keeps, per key, a record with a field that version 2 drops (`note`, also
 * inside a nested object: `detail.label`) and version 2 declares fields version 1 never wrote
 * (`tags`, `detail.weight`). No version bump, no hook: msgpack records carry their own field
 * names, so a restored value has exactly the fields that were stored.
 */

const KEYS = 5;
const V1_RECORDS = 200;
const V2_RECORDS = 100;

interface ItemV1 {
  n: number;
  note: string;
}
interface CounterV1 {
  id: string;
  count: number;
  note: string;
  detail: { first: number; last: number; label: string };
  buckets: Map<string, number>;
}
interface ItemV2 {
  n: number;
  tags?: string[];
}
interface CounterV2 {
  id: string;
  count: number;
  tags?: string[];
  detail: { first: number; last: number; weight?: number };
  buckets: Map<string, number>;
}

type Output =
  | { kind: "restored"; key: string; value: CounterV2; items: Array<[string, ItemV2]> }
  | { kind: "count"; key: string; count: number };
const outputs = collectSink<Output>("outputs");

const keyOf = (i: number) => `k${i % KEYS}`;
const bucketOf = (i: number) => `b${i % 3}`;

function version1(progress: { processed: number }) {
  return defineJob("evolving-records", (env) => {
    env
      .generate({ make: (i) => ({ key: keyOf(i), i }) })
      .uid("source-v1")
      .filter((r) => r.i < V1_RECORDS)
      .keyBy((r) => r.key)
      .process({
        state: { counter: valueState<CounterV1>(), items: mapState<string, ItemV1>() },
        processElement(r, ctx, _out: Collector<Output>) {
          const old = ctx.state.counter.value();
          const first = old?.detail.first ?? r.i;
          const buckets = old?.buckets ?? new Map<string, number>();
          buckets.set(bucketOf(r.i), (buckets.get(bucketOf(r.i)) ?? 0) + 1);
          ctx.state.counter.update({
            id: ctx.key as string,
            count: (old?.count ?? 0) + 1,
            note: `seen ${r.i}`,
            detail: { first, last: r.i, label: `from ${first}` },
            buckets,
          });
          const item = ctx.state.items.get(bucketOf(r.i));
          ctx.state.items.put(bucketOf(r.i), { n: (item?.n ?? 0) + 1, note: `item ${r.i}` });
          progress.processed++;
        },
      })
      .uid("counter")
      .collect(outputs);
  });
}

function version2(progress: { processed: number }) {
  return defineJob("evolving-records", (env) => {
    env
      .generate({ make: (i) => ({ key: keyOf(i), i: V1_RECORDS + i }) })
      .uid("source-v2")
      .filter((r) => r.i < V1_RECORDS + V2_RECORDS)
      .keyBy((r) => r.key)
      .process({
        state: { counter: valueState<CounterV2>(), items: mapState<string, ItemV2>() },
        processElement(r, ctx, out: Collector<Output>) {
          const key = ctx.key as string;
          const old = ctx.state.counter.value();
          // Version 2 always writes tags: a value without them is one version 1 wrote.
          if (old !== undefined && old.tags === undefined) {
            const items = ctx.state.items.entries().sort(([a], [b]) => a.localeCompare(b));
            // A copy: the function goes on changing the live value (its Map) in place.
            out.collect({ kind: "restored", key, value: structuredClone(old), items: structuredClone(items) });
          }
          const buckets = old?.buckets ?? new Map<string, number>();
          buckets.set(bucketOf(r.i), (buckets.get(bucketOf(r.i)) ?? 0) + 1);
          const count = (old?.count ?? 0) + 1;
          ctx.state.counter.update({
            id: key,
            count,
            tags: ["v2"],
            detail: { first: old?.detail.first ?? r.i, last: r.i, weight: 1 },
            buckets,
          });
          const item = ctx.state.items.get(bucketOf(r.i));
          ctx.state.items.put(bucketOf(r.i), { n: (item?.n ?? 0) + 1, tags: ["v2"] });
          out.collect({ kind: "count", key, count });
          progress.processed++;
        },
      })
      .uid("counter")
      .collect(outputs);
  });
}

/** What version 1 leaves per key after its records, computed without the runtime. */
function afterVersion1(): Map<string, { value: CounterV1; items: Array<[string, ItemV1]> }> {
  const out = new Map<string, { value: CounterV1; items: Map<string, ItemV1> }>();
  for (let i = 0; i < V1_RECORDS; i++) {
    const key = keyOf(i);
    let state = out.get(key);
    if (state === undefined) {
      state = {
        value: { id: key, count: 0, note: "", detail: { first: i, last: i, label: "" }, buckets: new Map() },
        items: new Map(),
      };
      out.set(key, state);
    }
    const { value, items } = state;
    value.count++;
    value.note = `seen ${i}`;
    value.detail = { first: value.detail.first, last: i, label: `from ${value.detail.first}` };
    value.buckets.set(bucketOf(i), (value.buckets.get(bucketOf(i)) ?? 0) + 1);
    items.set(bucketOf(i), { n: (items.get(bucketOf(i))?.n ?? 0) + 1, note: `item ${i}` });
  }
  return new Map(
    [...out].map(([key, { value, items }]) => [
      key,
      { value, items: [...items].sort(([a], [b]) => a.localeCompare(b)) },
    ]),
  );
}

describe("Records evolving between savepoints, without a version bump", () => {
  it("keeps stored fields, leaves new ones undefined and gives exactly the expected output", async () => {
    const runs = await SavepointRuns.open();
    try {
      const first = { processed: 0 };
      const { savepoint } = await runs.runToSavepoint(version1(first), () => first.processed, V1_RECORDS);
      assert.equal(first.processed, V1_RECORDS, "the savepoint holds exactly version 1's records");

      const second = { processed: 0 };
      const { result } = await runs.runToSavepoint(version2(second), () => second.processed, V2_RECORDS, savepoint);
      const got = result.get(outputs);
      const expected = afterVersion1();

      const restored = got.filter((o) => o.kind === "restored");
      assert.equal(restored.length, KEYS, "each key's version-1 value is seen once");
      for (const output of restored) {
        const stored = expected.get(output.key);
        assert.ok(stored !== undefined);
        // `note` and `detail.label` come back as msgpack gives them: extra fields the type does
        // not declare; `tags` and `detail.weight` were never stored, so they are absent.
        const value: unknown = output.value;
        assert.deepEqual(value, stored.value);
        assert.equal(output.value.tags, undefined);
        assert.equal(output.value.detail.weight, undefined);
        assert.ok(output.value.buckets instanceof Map, "a Map inside a value comes back as a Map");
        const items: unknown = output.items;
        assert.deepEqual(items, stored.items);
        for (const [, item] of output.items) assert.equal(item.tags, undefined);
      }

      // Counts go on from version 1's, record by record.
      for (const [key, stored] of expected) {
        const counts = got
          .filter((o) => o.kind === "count" && o.key === key)
          .map((o) => (o as { count: number }).count);
        const inV2 = V2_RECORDS / KEYS;
        assert.deepEqual(
          counts,
          Array.from({ length: inV2 }, (_, n) => stored.value.count + n + 1),
        );
      }
      assert.equal(got.length, KEYS + V2_RECORDS);
    } finally {
      await runs.close();
    }
  });
});
