import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type Collector,
  collectSink,
  defineJob,
  processingTimeSessionWindows,
  SeededRandom,
  type TimeWindow,
  tumblingProcessingTimeWindows,
  type WindowAssigner,
} from "@keyflow/functions-sdk";
import { execute, SimulatedClock } from "../../src/index.js";
import { sorted } from "./window-test-kit.js";

/** A record that arrives at the window operator when processing time is `at`. */
interface Arrival {
  readonly key: string;
  readonly at: number;
}

function arrivals(count: number, seed: number): Arrival[] {
  const random = new SeededRandom(seed);
  let at = 0;
  return Array.from({ length: count }, () => {
    at += random.nextInt(60);
    return { key: `k${random.nextInt(3)}`, at };
  });
}

/**
 * The assigner, with the simulated clock moved to each record's arrival time just before the
 * record is assigned, so processing time is exact per record whatever the batching upstream.
 */
function arrivingAt(
  clock: SimulatedClock,
  assigner: WindowAssigner<Arrival, TimeWindow>,
): WindowAssigner<Arrival, TimeWindow> {
  return {
    ...assigner,
    assignWindows(element, timestamp, ctx) {
      clock.advance(element.at - clock.now());
      return assigner.assignWindows(element, timestamp, ctx);
    },
  };
}

const describeWindow = {
  process(key: string, ctx: { window: TimeWindow }, elements: readonly Arrival[], out: Collector<string>) {
    out.collect(`${key} [${ctx.window.start},${ctx.window.end}): ${elements.map((e) => e.at).join(",")}`);
  },
};

describe("processing-time windows", () => {
  it("gather records by the processing time they arrive at, fire as the clock passes each window's end, and leave windows open at the end of input unfired", async () => {
    const data = arrivals(300, 9);
    const clock = new SimulatedClock(0);
    const out = collectSink<string>("out");
    const job = defineJob("processing-time", (env) => {
      env
        .fromCollection(data)
        .keyBy((r) => r.key)
        .window(arrivingAt(clock, tumblingProcessingTimeWindows<Arrival>(1_000)))
        .process(describeWindow)
        .collect(out);
    });
    // One record per batch: the record that moves the clock past a window's end is the last
    // one the window operator handles before the window's timer runs.
    const result = await execute(job, { workers: 0, clock, batchSize: 1 });
    const last = (data[data.length - 1] as Arrival).at;
    const groups = new Map<string, Arrival[]>();
    for (const r of data) {
      const start = Math.floor(r.at / 1_000) * 1_000;
      groups.set(`${r.key} [${start},${start + 1_000})`, [
        ...(groups.get(`${r.key} [${start},${start + 1_000})`) ?? []),
        r,
      ]);
    }
    const expected = [...groups]
      .filter(([id]) => Number(id.split(",")[1]?.replace(")", "")) - 1 <= last)
      .map(([id, rs]) => `${id}: ${rs.map((r) => r.at).join(",")}`);
    const open = groups.size - expected.length;
    assert.ok(open > 0 && expected.length > 10, `${expected.length} windows closed, ${open} still open at the end`);
    assert.deepEqual(sorted(result.get(out)), sorted(expected));
  });

  it("merge processing-time sessions and fire each once the clock passes its end", async () => {
    // Gap 100. Key a: 0, 50 and 120 form [0, 220); 400 starts [400, 500), which 450 extends to
    // [400, 550); the clock reaches 700 with key b, so both of a's sessions fire. b's [700, 800) is still open.
    const data: Arrival[] = [
      { key: "a", at: 0 },
      { key: "a", at: 50 },
      { key: "a", at: 120 },
      { key: "a", at: 400 },
      { key: "a", at: 450 },
      { key: "b", at: 700 },
    ];
    const clock = new SimulatedClock(0);
    const out = collectSink<string>("out");
    const job = defineJob("processing-time-sessions", (env) => {
      env
        .fromCollection(data)
        .keyBy((r) => r.key)
        .window(arrivingAt(clock, processingTimeSessionWindows<Arrival>(100)))
        .process(describeWindow)
        .collect(out);
    });
    const result = await execute(job, { workers: 0, clock, batchSize: 1 });
    assert.deepEqual(result.get(out), ["a [0,220): 0,50,120", "a [400,550): 400,450"]);
  });
});
