import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type AggregateFunction,
  type Collector,
  collectSink,
  countTrigger,
  defineJob,
  listState,
  outputTag,
  type RichFunction,
  type RuntimeContext,
  type TimeWindow,
  tumblingEventTimeWindows,
  valueState,
} from "@keyflow/functions-sdk";
import { execute } from "../../src/index.js";
import { groupByWindow, type Reading, readings, type Stamped, sorted, source, stamped } from "./window-test-kit.js";

const data = readings(500, 4, 23);

describe("state of process window functions", () => {
  it("keeps windowState per key and window, globalState per key across windows, and clears window state after clear()", async () => {
    const cleared = outputTag<string>("cleared");
    const out = collectSink<string>("out");
    const clearedOut = collectSink<Stamped<string>>("cleared");
    const job = defineJob("window-state", (env) => {
      const firings = source(env, data, (r) => r.ts)
        .keyBy((r) => r.key)
        .window(tumblingEventTimeWindows<Reading>(200))
        .trigger(countTrigger<Reading, TimeWindow>(2))
        .process({
          windowState: { firings: valueState<number>({ defaultValue: 0 }), sizes: listState<number>() },
          globalState: { total: valueState<number>({ defaultValue: 0 }) },
          process(key, ctx, elements, collector: Collector<string>) {
            const firing = (ctx.windowState.firings.value() ?? 0) + 1;
            ctx.windowState.firings.update(firing);
            ctx.windowState.sizes.add(elements.length);
            const total = (ctx.globalState.total.value() ?? 0) + 1;
            ctx.globalState.total.update(total);
            collector.collect(
              `${key}@${ctx.window.start} #${firing} sizes ${ctx.windowState.sizes.get()} total ${total}`,
            );
          },
          clear(ctx) {
            const sizes = ctx.windowState.sizes.get();
            ctx.output(cleared, `${ctx.window.start}: ${ctx.windowState.firings.value()} firings ${sizes}`);
          },
        });
      firings.collect(out);
      stamped(firings.getSideOutput(cleared)).collect(clearedOut);
    });
    const result = await execute(job, { workers: 0 });

    const counts = new Map<string, number>();
    const totals = new Map<string, number>();
    const expected: string[] = [];
    for (const r of data) {
      const start = Math.floor(r.ts / 200) * 200;
      const id = `${r.key}@${start}`;
      const n = (counts.get(id) ?? 0) + 1;
      counts.set(id, n);
      if (n % 2 !== 0) continue;
      const total = (totals.get(r.key) ?? 0) + 1;
      totals.set(r.key, total);
      const sizes = Array.from({ length: n / 2 }, (_, i) => 2 * (i + 1));
      expected.push(`${id} #${n / 2} sizes ${sizes} total ${total}`);
    }
    assert.deepEqual(sorted(result.get(out)), sorted(expected));

    // Every window is cleared once, at its end (cleanup), with its state still readable in clear().
    const expectedCleared = [...counts].map(([id, n]) => {
      const start = Number(id.split("@")[1]);
      const sizes = Array.from({ length: Math.floor(n / 2) }, (_, i) => 2 * (i + 1));
      return { value: `${start}: ${Math.floor(n / 2)} firings ${sizes}`, ts: start + 199 };
    });
    assert.deepEqual(sorted(result.get(clearedOut)), sorted(expectedCleared));
  });

  it("opens and closes the aggregate and the process window function once per shard, with the shard's context", async () => {
    const events: string[] = [];
    class Counting implements AggregateFunction<Reading, number, number>, RichFunction {
      open(context: RuntimeContext) {
        events.push(`aggregate open ${context.operatorName}#${context.shardIndex}`);
      }
      close() {
        events.push("aggregate close");
      }
      createAccumulator = () => 0;
      add = (_r: Reading, n: number) => n + 1;
      getResult = (n: number) => n;
    }
    let shard = "";
    const out = collectSink<string>("out");
    const job = defineJob("rich", (env) => {
      source(env, data, (r) => r.ts)
        .keyBy((r) => r.key)
        .window(tumblingEventTimeWindows<Reading>(1_000))
        .aggregate(new Counting(), {
          open(context: RuntimeContext) {
            shard = `#${context.shardIndex} of ${context.parallelism}`;
            events.push(`process open ${context.operatorName}`);
          },
          close() {
            events.push("process close");
          },
          process(key, ctx, [n], collector: Collector<string>) {
            collector.collect(`${key} ${ctx.window.start} ${n}`);
          },
        })
        .name("Counts")
        .collect(out);
    });
    const result = await execute(job, { workers: 0 });
    assert.equal(shard, "#0 of 1");
    assert.deepEqual(events, ["aggregate open Counts#0", "process open Counts", "aggregate close", "process close"]);
    assert.equal(result.get(out).length, groupByWindow(data, 1_000, 1_000).size);
  });
});
