import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  aggregatingState,
  type Collector,
  collectSink,
  defineJob,
  listState,
  mapState,
  reducingState,
  valueState,
} from "@keyflow/functions-sdk";
import { execute, SimulatedClock } from "../../src/index.js";

interface Visit {
  readonly user: string;
  readonly page: string;
  readonly ms: number;
}

const users = ["ann", "bob", "cy", "dee", "eve"];
const visits: Visit[] = Array.from({ length: 500 }, (_, i) => ({
  user: users[(i * 7) % users.length] as string,
  page: `p${i % 4}`,
  ms: (i * 37) % 101,
}));

interface Summary {
  readonly user: string;
  readonly count: number;
  readonly pages: string[];
  readonly perPage: Array<[string, number]>;
  readonly longest: number;
  readonly average: number;
}

describe("keyed process functions", () => {
  it("keep every kind of state per key across records, at any parallelism", async () => {
    const summaries = collectSink<Summary>("summaries");
    const job = defineJob("sessions", (env) => {
      env
        .fromCollection(visits)
        .keyBy((v) => v.user)
        .process({
          state: {
            count: valueState<number>({ defaultValue: 0 }),
            pages: listState<string>(),
            perPage: mapState<string, number>(),
            longest: reducingState<number>((a, b) => Math.max(a, b)),
            average: aggregatingState<number, { sum: number; n: number }, number>({
              createAccumulator: () => ({ sum: 0, n: 0 }),
              add: (ms, acc) => ({ sum: acc.sum + ms, n: acc.n + 1 }),
              getResult: (acc) => acc.sum / acc.n,
            }),
          },
          processElement(visit, ctx, out: Collector<Summary>) {
            assert.equal(ctx.key, visit.user, "the current key is the record's key");
            const count = (ctx.state.count.value() ?? 0) + 1;
            ctx.state.count.update(count);
            ctx.state.pages.add(visit.page);
            ctx.state.perPage.put(visit.page, (ctx.state.perPage.get(visit.page) ?? 0) + 1);
            ctx.state.longest.add(visit.ms);
            ctx.state.average.add(visit.ms);
            out.collect({
              user: ctx.key,
              count,
              pages: ctx.state.pages.get(),
              perPage: ctx.state.perPage.entries().sort(),
              longest: ctx.state.longest.get() ?? -1,
              average: ctx.state.average.get() ?? -1,
            });
          },
        })
        .setParallelism(3)
        .collect(summaries);
    });
    const result = await execute(job);
    const last = new Map<string, Summary>();
    for (const s of result.get(summaries)) last.set(s.user, s);
    for (const user of users) {
      const mine = visits.filter((v) => v.user === user);
      const perPage = new Map<string, number>();
      for (const v of mine) perPage.set(v.page, (perPage.get(v.page) ?? 0) + 1);
      assert.deepEqual(last.get(user), {
        user,
        count: mine.length,
        pages: mine.map((v) => v.page),
        perPage: [...perPage.entries()].sort(),
        longest: Math.max(...mine.map((v) => v.ms)),
        average: mine.reduce((s, v) => s + v.ms, 0) / mine.length,
      });
    }
  });

  it("expire state after its TTL on the job's clock", async () => {
    const clock = new SimulatedClock(0);
    // [key, ms of processing time that pass before the record is processed]
    const events: Array<[string, number]> = [
      ["a", 0],
      ["a", 500],
      ["b", 0],
      ["b", 400],
      ["a", 1500],
      ["a", 100],
    ];
    const out = collectSink<string>("out");
    const job = defineJob("ttl", (env) => {
      env
        .fromCollection(events)
        .keyBy(([key]) => key)
        .process({
          state: { seen: valueState<number>({ defaultValue: 0, ttl: { ttlMs: 1000 } }) },
          processElement([key, gap], ctx, collector: Collector<string>) {
            clock.advance(gap);
            const seen = (ctx.state.seen.value() ?? 0) + 1;
            ctx.state.seen.update(seen);
            collector.collect(`${key}${seen}@${ctx.currentProcessingTime()}`);
          },
        })
        .collect(out);
    });
    const result = await execute(job, { clock });
    // b's count survives 400 ms; a's restarts after 1900 ms without a write.
    assert.deepEqual(result.get(out), ["a1@0", "a2@500", "b1@500", "b2@900", "a1@2400", "a2@2500"]);
  });
});
