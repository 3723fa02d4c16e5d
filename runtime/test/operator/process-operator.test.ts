import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { collectSink, defineJob, outputTag } from "@keyflow/functions-sdk";
import { execute, SimulatedClock } from "../../src/index.js";

interface Reading {
  readonly id: string;
  readonly temperature: number;
}

const readings: Reading[] = [
  { id: "a", temperature: 20 },
  { id: "b", temperature: 120 },
  { id: "c", temperature: -40 },
  { id: "d", temperature: 30 },
  { id: "e", temperature: 130 },
];

describe("process with side outputs", () => {
  it("routes records to the main output and to side outputs read with getSideOutput", async () => {
    const tooHot = outputTag<string>("too-hot");
    const tooCold = outputTag<{ id: string; by: number }>("too-cold");
    const normal = collectSink<Reading>("normal");
    const hot = collectSink<string>("hot");
    const cold = collectSink<{ id: string; by: number }>("cold");
    const job = defineJob("side-outputs", (env) => {
      const checked = env.fromCollection(readings).process<Reading>({
        processElement(value, ctx, out) {
          if (value.temperature > 100) ctx.output(tooHot, value.id);
          else if (value.temperature < 0) ctx.output(tooCold, { id: value.id, by: -value.temperature });
          else out.collect(value);
        },
      });
      checked.collect(normal);
      checked.getSideOutput(tooHot).collect(hot);
      // A side output feeds any operator, on any parallelism.
      checked
        .getSideOutput(tooCold)
        .map((c) => c)
        .setParallelism(2)
        .collect(cold);
    });
    const result = await execute(job);
    assert.deepEqual(
      result.get(normal).map((r) => r.id),
      ["a", "d"],
    );
    assert.deepEqual(result.get(hot), ["b", "e"]);
    assert.deepEqual(result.get(cold), [{ id: "c", by: 40 }]);
  });

  it("drops side-output records that nothing reads, and sends one tag to every stream that reads it", async () => {
    const used = outputTag<number>("used");
    const unused = outputTag<number>("unused");
    const first = collectSink<number>("first");
    const second = collectSink<number>("second");
    const job = defineJob("tags", (env) => {
      const s = env.fromCollection([1, 2, 3]).process<number>({
        processElement(value, ctx) {
          ctx.output(used, value);
          ctx.output(unused, value);
        },
      });
      s.getSideOutput(used).collect(first);
      s.getSideOutput(outputTag<number>("used")).collect(second);
    });
    const result = await execute(job);
    assert.deepEqual(result.get(first), [1, 2, 3]);
    assert.deepEqual(result.get(second), [1, 2, 3], "two tags with one id are the same side output");
  });

  it("gives the function each record's timestamp and keeps it on side-output records", async () => {
    const late = outputTag<string>("late");
    const seen = collectSink<string>("seen");
    const sideTimestamps: Array<number | undefined> = [];
    const job = defineJob("context", (env) => {
      const s = env.generate({ count: 3, make: (i) => i, timestamp: (_v, i) => 100 * i }).process<string>({
        processElement(value, ctx, out) {
          out.collect(`${value}@${ctx.timestamp}`);
          ctx.output(late, `late ${value}`);
        },
      });
      s.collect(seen);
      s.getSideOutput(late).sinkTo({ createWriter: () => ({ write: (_v, ts) => void sideTimestamps.push(ts) }) });
    });
    const result = await execute(job);
    assert.deepEqual(result.get(seen), ["0@0", "1@100", "2@200"]);
    assert.deepEqual(sideTimestamps, [0, 100, 200]);
  });

  it("reports an undefined timestamp for records that have none, and processing time from the job's clock", async () => {
    const out = collectSink<[number | undefined, number]>("out");
    const job = defineJob("no-timestamp", (env) => {
      env
        .fromCollection([1])
        .process<[number | undefined, number]>({
          processElement(_value, ctx, collector) {
            collector.collect([ctx.timestamp, ctx.currentProcessingTime()]);
          },
        })
        .collect(out);
    });
    const result = await execute(job, { clock: new SimulatedClock(1_700_000_000_000) });
    assert.deepEqual(result.get(out), [[undefined, 1_700_000_000_000]]);
  });
});
