import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type Collector,
  collectionSource,
  collectSink,
  type DataStream,
  defineJob,
  type Evictor,
  eventTimeSessionWindows,
  neverTrigger,
  type StreamEnvironment,
  slidingEventTimeWindows,
  type TaggedUnion,
  type TimeWindow,
  tumblingEventTimeWindows,
  type WindowAssigner,
} from "@keyflow/functions-sdk";
import { execute } from "../../src/index.js";
import { type Event, events, punctuated } from "./interval-join-reference.js";
import {
  coGroupLines,
  fixedWindows,
  idsOf,
  joinPairs,
  type KeyWindow,
  sessionWindows,
  sliding,
  tumbling,
} from "./window-join-reference.js";

const DISORDER = 20;
// Lefts have keys k0..k5, rights k0..k7: k6 and k7 are on the right side only.
const lefts = events("L", 400, 6, DISORDER, 5);
const rights = events("R", 400, 8, DISORDER, 7);
// For sessions, even timestamps and an odd gap: no two records are exactly a gap apart, where
// whether they share a session would depend on how the watermark and the later record interleave.
const doubled = (list: readonly Event[]) => list.map((e) => ({ ...e, ts: 2 * e.ts }));
const SESSION_GAP = 41;

type Assigner = WindowAssigner<TaggedUnion<Event, Event>, TimeWindow>;

interface Case {
  readonly name: string;
  readonly assigner: () => Assigner;
  readonly lefts: readonly Event[];
  readonly rights: readonly Event[];
  readonly disorder: number;
  readonly windows: () => KeyWindow[];
}

const cases: Case[] = [
  {
    name: "tumbling windows",
    assigner: () => tumblingEventTimeWindows(10),
    lefts,
    rights,
    disorder: DISORDER,
    windows: () => fixedWindows(lefts, rights, tumbling(10)),
  },
  {
    name: "sliding windows",
    assigner: () => slidingEventTimeWindows(30, 10),
    lefts,
    rights,
    disorder: DISORDER,
    windows: () => fixedWindows(lefts, rights, sliding(30, 10)),
  },
  {
    name: "session windows",
    assigner: () => eventTimeSessionWindows(SESSION_GAP),
    lefts: doubled(lefts),
    rights: doubled(rights),
    disorder: 2 * DISORDER,
    windows: () => sessionWindows(doubled(lefts), doubled(rights), SESSION_GAP),
  },
];

/** Both sides from their own source, with per-record watermarks that make no record late. */
function sources(env: StreamEnvironment, c: Case): [DataStream<Event>, DataStream<Event>] {
  return [
    env.fromSource(collectionSource(c.lefts), "Lefts", punctuated(c.disorder)).setParallelism(1),
    env.fromSource(collectionSource(c.rights), "Rights", punctuated(c.disorder)).setParallelism(1),
  ];
}

/** Appends the timestamp the record carries downstream: a window's results carry its last timestamp. */
function stamped(stream: DataStream<string>): DataStream<string> {
  return stream.process({
    processElement(value: string, ctx, out: Collector<string>) {
      out.collect(`${value}@${ctx.timestamp}`);
    },
  });
}

async function runJoin(c: Case, parallelism: number): Promise<string[]> {
  const sink = collectSink<string>("pairs");
  const job = defineJob("window-join", (env) => {
    const [left, right] = sources(env, c);
    const joined = left
      .join(right)
      .where((e) => e.key)
      .equalTo((e) => e.key)
      .window(c.assigner())
      .apply((l, r) => `${l.id}|${r.id}`);
    stamped(joined).collect(sink);
  });
  return (await execute(job, { parallelism })).get(sink).sort();
}

async function runCoGroup(c: Case, parallelism: number): Promise<string[]> {
  const sink = collectSink<string>("groups");
  const job = defineJob("window-cogroup", (env) => {
    const [left, right] = sources(env, c);
    const grouped = left
      .coGroup(right)
      .where((e) => e.key)
      .equalTo((e) => e.key)
      .window(c.assigner())
      .apply((ls, rs, out: Collector<string>) => {
        const key = (ls[0] ?? (rs[0] as Event)).key;
        out.collect(`${key}:${idsOf(ls)}/${idsOf(rs)}`);
      });
    grouped
      .process({
        processElement(line: string, ctx, out: Collector<string>) {
          const [key, rest] = line.split(":") as [string, string];
          out.collect(`${key}@${ctx.timestamp}:${rest}`);
        },
      })
      .collect(sink);
  });
  return (await execute(job, { parallelism })).get(sink).sort();
}

describe("window join", () => {
  for (const c of cases) {
    it(`emits every pair of a key's left and right records in the same window, as nested loops per window do, on ${c.name}`, async () => {
      const want = joinPairs(c.windows());
      assert.ok(want.length > 100, `the data gives enough pairs (${want.length})`);
      for (const parallelism of [1, 4])
        assert.deepEqual(await runJoin(c, parallelism), want, `parallelism ${parallelism}`);
    });
  }

  it("passes its trigger through: a trigger that never fires gives no pairs", async () => {
    const sink = collectSink<string>("pairs");
    const job = defineJob("never", (env) => {
      const [left, right] = sources(env, cases[0] as Case);
      left
        .join(right)
        .where((e) => e.key)
        .equalTo((e) => e.key)
        .window(tumblingEventTimeWindows(10))
        .trigger(neverTrigger())
        .apply((l, r) => `${l.id}|${r.id}`)
        .collect(sink);
    });
    assert.deepEqual((await execute(job, { parallelism: 2 })).get(sink), []);
  });

  it("passes its evictor through: records it removes before the join form no pairs", async () => {
    // Evicts left records with odd timestamps: the evictor sees both sides' records, tagged.
    const oddLefts: Evictor<TaggedUnion<Event, Event>, TimeWindow> = {
      evictBefore(elements) {
        const kept = elements.filter((e) => !(e.value.side === 0 && e.value.value.ts % 2 === 1));
        elements.splice(0, elements.length, ...kept);
      },
    };
    const sink = collectSink<string>("pairs");
    const job = defineJob("evicting", (env) => {
      const [left, right] = sources(env, cases[0] as Case);
      const joined = left
        .join(right)
        .where((e) => e.key)
        .equalTo((e) => e.key)
        .window(tumblingEventTimeWindows(10))
        .evictor(oddLefts)
        .apply((l, r) => `${l.id}|${r.id}`);
      stamped(joined).collect(sink);
    });
    const want = joinPairs(
      fixedWindows(
        lefts.filter((e) => e.ts % 2 === 0),
        rights,
        tumbling(10),
      ),
    );
    assert.deepEqual((await execute(job, { parallelism: 2 })).get(sink).sort(), want);
  });
});

describe("window coGroup", () => {
  for (const c of cases) {
    it(`calls the function once per window and key with records on either side, with both sides' records, on ${c.name}`, async () => {
      const want = coGroupLines(c.windows());
      const oneSided = want.filter((line) => line.includes(":/") || line.endsWith("/"));
      assert.ok(oneSided.length > 20, `some windows have records of one side only (${oneSided.length})`);
      assert.ok(
        want.some((line) => line.startsWith("k7@")),
        "k7 is a key of the right side only",
      );
      for (const parallelism of [1, 4]) {
        assert.deepEqual(await runCoGroup(c, parallelism), want, `parallelism ${parallelism}`);
      }
    });
  }
});

describe("window join graph", () => {
  it("tags both sides, unions them, keys the union and windows it in one operator, as Flink builds a join", () => {
    const job = defineJob("graph", (env) => {
      const left = env.fromCollection<Event>([]);
      const right = env.fromCollection<Event>([]);
      left
        .join(right)
        .where((e) => e.key)
        .equalTo((e) => e.key)
        .window(tumblingEventTimeWindows(10))
        .allowedLateness(500)
        .apply((l, r) => l.ts + r.ts)
        .discard();
    });
    const nodes = job.build().nodes;
    const names = nodes.map((n) => [n.name, n.spec.kind, n.parallelism]);
    assert.deepEqual(names, [
      ["Collection", "source", 1],
      ["Collection", "source", 1],
      ["WindowJoin: tag left", "map", 1],
      ["WindowJoin: tag right", "map", 1],
      ["WindowJoin", "window", undefined],
      ["Discard", "sink", undefined],
    ]);
    const window = nodes[4];
    assert.ok(window?.spec.kind === "window");
    assert.equal(window.spec.window.allowedLatenessMs, 500);
    assert.deepEqual(
      window.inputs.map((edge) => [edge.from, edge.partitioner.kind]),
      [
        [2, "hash"],
        [3, "hash"],
      ],
    );
    // The union's key reads each side's key from its own records.
    const key = window.inputs[0]?.partitioner.kind === "hash" ? window.inputs[0].partitioner.key : undefined;
    assert.equal(key?.({ side: 0, value: { key: "a", ts: 1, id: "L" } }), "a");
    assert.equal(key?.({ side: 1, value: { key: "b", ts: 1, id: "R" } }), "b");
  });
});
