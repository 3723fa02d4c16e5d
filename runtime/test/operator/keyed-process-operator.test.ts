import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  aggregatingState,
  type Collector,
  collectSink,
  defineJob,
  generatorSource,
  listState,
  mapState,
  reducingState,
  valueState,
} from "@keyflow/functions-sdk";
import { execute, JobFailedError, SimulatedClock } from "../../src/index.js";

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

  it("take a batch in chunks with their keys' state loaded first: the same results, in order, with each record's timestamp", async () => {
    // 5000 records over 1500 number keys and a few string keys, in batches of 1000 (chunks of 64).
    const keyOf = (i: number): number | string => (i % 7 === 0 ? `s${i % 3}` : (i * 31) % 1500);
    const out = collectSink<string>("out");
    const job = defineJob("chunks", (env) => {
      env
        .fromSource(generatorSource({ count: 5000, make: (i) => i, timestamp: (_v, i) => i * 10 }))
        .keyBy(keyOf)
        .process({
          state: { count: valueState<number>({ defaultValue: 0 }) },
          processElement(i, ctx, collector: Collector<string>) {
            const count = (ctx.state.count.value() ?? 0) + 1;
            ctx.state.count.update(count);
            collector.collect(`${i}:${String(ctx.key)}:${count}@${ctx.timestamp}`);
          },
        })
        .collect(out);
    });
    const result = await execute(job, { batchSize: 1000 });
    const counts = new Map<unknown, number>();
    const expected = Array.from({ length: 5000 }, (_, i) => {
      const key = keyOf(i);
      const count = (counts.get(key) ?? 0) + 1;
      counts.set(key, count);
      return `${i}:${String(key)}:${count}@${i * 10}`;
    });
    assert.deepEqual(result.get(out), expected);
  });

  it("name the record of a batch that failed, in its function or in its key selector, after the records before it took effect", async () => {
    for (const where of ["function", "selector"] as const) {
      const seen: number[] = [];
      const job = defineJob("fails", (env) => {
        env
          .fromSource(generatorSource({ count: 3000, make: (i) => i }))
          .keyBy((i) => {
            if (where === "selector" && i === 1234) throw new Error("no key for 1234");
            return i % 500;
          })
          .process({
            processElement(i) {
              if (where === "function" && i === 777) throw new Error("cannot take 777");
              seen.push(i);
            },
          })
          .discard();
      });
      await assert.rejects(execute(job, { batchSize: 1000 }), (error: unknown) => {
        assert.ok(error instanceof JobFailedError);
        assert.equal(error.reason.code, "USER_FUNCTION_FAILED");
        assert.match(
          error.reason.message,
          where === "function" ? /record 777: cannot take 777/ : /record 1234: no key for 1234/,
        );
        return true;
      });
      const failedAt = where === "function" ? 777 : 1234;
      // Keys of a chunk are computed before its records run: a selector failing at 1234 stops the job
      // before any record of its chunk (1216-1279), so 0-1215 ran; a function failing at 777 ran 0-776.
      const ranUpTo = where === "function" ? failedAt : Math.floor((failedAt - 1000) / 64) * 64 + 1000;
      assert.deepEqual(
        seen,
        Array.from({ length: ranUpTo }, (_, i) => i),
        where,
      );
    }
  });
});
