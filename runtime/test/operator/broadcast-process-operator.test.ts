import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type Collector,
  collectSink,
  defineJob,
  mapState,
  outputTag,
  type Source,
  type SourceReaderContext,
  valueState,
} from "@keyflow/functions-sdk";
import { execute } from "../../src/index.js";

interface Reading {
  readonly sensor: string;
  readonly temperature: number;
}
interface Rule {
  readonly sensor: string;
  readonly threshold: number;
}

/**
 * Readings that wait until `ready()` holds: the broadcast side and the record side are different
 * channels with no order between them (as in Flink), so the test makes the rules arrive first.
 */
function readingsAfter(readings: Reading[], ready: () => boolean): Source<Reading> {
  return {
    createReader(context: SourceReaderContext) {
      let i = context.shardIndex;
      return {
        poll(out, max) {
          if (!ready()) return context.sleep(1);
          for (let n = 0; n < max && i < readings.length; n++, i += context.parallelism)
            out.collect(readings[i] as Reading);
          return i < readings.length ? "more" : "end";
        },
      };
    },
  };
}

const SENSORS = ["s1", "s2", "s3", "s4", "s5", "s6"];
const readings: Reading[] = Array.from({ length: 600 }, (_, i) => ({
  sensor: SENSORS[i % SENSORS.length] as string,
  temperature: i % 100,
}));
// s1 is updated twice: the last rule wins on every shard, since every shard sees one order.
const rules: Rule[] = [
  { sensor: "s1", threshold: 10 },
  { sensor: "s2", threshold: 50 },
  { sensor: "s3", threshold: 90 },
  { sensor: "s1", threshold: 95 },
];

const view = outputTag<string>("view");

describe("the broadcast-state pattern", () => {
  it("applies rules from a broadcast stream per key, every shard seeing every rule in one order", async () => {
    const parallelism = 3;
    let rulesApplied = 0;
    const alerts = collectSink<string>("alerts");
    const views = collectSink<string>("views");
    const job = defineJob("rules", (env) => {
      const ruleStream = env.fromCollection(rules, "Rules").broadcast({ thresholds: mapState<string, number>() });
      let shard = -1;
      let viewed = false;
      const checked = env
        .fromSource(
          readingsAfter(readings, () => rulesApplied === rules.length * parallelism),
          "Readings",
        )
        .setParallelism(2)
        .keyBy((r) => r.sensor)
        .connect(ruleStream)
        .process({
          state: { alerts: valueState<number>({ defaultValue: 0 }) },
          open(context) {
            shard = context.shardIndex;
          },
          processElement(reading, ctx, out: Collector<string>) {
            if (!viewed) {
              // What this shard's record side sees of the broadcast state.
              viewed = true;
              ctx.output(view, `${shard}:${JSON.stringify(ctx.broadcastState.thresholds.entries().sort())}`);
            }
            const threshold = ctx.broadcastState.thresholds.get(reading.sensor);
            if (threshold === undefined || reading.temperature <= threshold) return;
            const count = (ctx.state.alerts.value() ?? 0) + 1;
            ctx.state.alerts.update(count);
            out.collect(`${ctx.key}#${count}:${reading.temperature}`);
          },
          processBroadcastElement(rule, ctx) {
            ctx.broadcastState.thresholds.put(rule.sensor, rule.threshold);
            rulesApplied++;
          },
        })
        .name("Apply")
        .setParallelism(parallelism);
      checked.collect(alerts);
      checked.getSideOutput(view).collect(views);
    });
    const result = await execute(job);

    const finalRules = [
      ["s1", 95],
      ["s2", 50],
      ["s3", 90],
    ];
    const seen = result.get(views);
    assert.equal(seen.length, parallelism, `every shard got records: ${seen.join(" | ")}`);
    for (const line of seen) assert.equal(line.slice(line.indexOf(":") + 1), JSON.stringify(finalRules));

    const thresholdOf = new Map(finalRules as Array<[string, number]>);
    const expected = readings
      .filter((r) => r.temperature > (thresholdOf.get(r.sensor) ?? Number.POSITIVE_INFINITY))
      .map((r) => `${r.sensor}:${r.temperature}`);
    const all = result.get(alerts);
    assert.deepEqual(all.map((a) => a.replace(/#\d+/, "")).sort(), expected.sort());
    // Per key, the alert counter kept in keyed state counts 1, 2, 3, … in the key's order.
    for (const sensor of new Set(all.map((a) => a.split("#")[0]))) {
      const numbers = all.filter((a) => a.startsWith(`${sensor}#`)).map((a) => Number(a.split(/[#:]/)[1]));
      assert.deepEqual(
        numbers,
        numbers.map((_, i) => i + 1),
      );
    }
  });
});
