import {
  type AggregateFunction,
  type Collector,
  collectionSource,
  collectSink,
  defineJob,
  eventTimeSessionWindows,
  type JobDefinition,
  outputTag,
  type ProcessContext,
  type ProcessWindowContext,
  SeededRandom,
  slidingEventTimeWindows,
  type TimeWindow,
  tumblingEventTimeWindows,
  type WatermarkGenerator,
  WatermarkStrategy,
  type WindowAssigner,
} from "@keyflow/functions-sdk";
import type { Event, WindowShape } from "./window-reference.js";

/**
 * The job and the records of the window correctness tests. One source shard emits seeded records
 * with a watermark after each; three window operators (reduce, aggregate, process) read them over
 * keyBy edges straight from the source shard, so every window shard sees records and watermarks
 * in source order and which records are late is decided, as in the batch reference.
 */

/** How far the watermark trails the largest timestamp. */
export const BOUND_MS = 400;

export interface RecordOptions {
  readonly seed: number;
  readonly count: number;
  /** Keys k0..k(keys-1); a few are active at a time, so session windows have gaps. */
  readonly keys: number;
  /** Share of records moved back beyond the bound (possibly late). */
  readonly beyondBound: number;
  /** How far beyond the bound such a record may go, in ms. */
  readonly beyondMs: number;
}

/**
 * Seeded records whose timestamps advance about 10 ms a record. Most are out of order within the
 * bound (never late); `beyondBound` of them are moved back further, by up to `beyondMs` more.
 * Every 1.5 s of event time a new set of 5 keys is active.
 */
export function makeEvents(options: RecordOptions): Event[] {
  const random = new SeededRandom(options.seed);
  const events: Event[] = [];
  let base = 10_000;
  let phase = -1;
  let active: string[] = [];
  for (let seq = 0; seq < options.count; seq++) {
    base += random.nextInt(21);
    if (Math.floor(base / 1_500) !== phase) {
      phase = Math.floor(base / 1_500);
      active = Array.from({ length: 5 }, () => `k${random.nextInt(options.keys)}`);
    }
    const ts =
      random.next() < options.beyondBound
        ? base - BOUND_MS - 1 - random.nextInt(options.beyondMs)
        : base - random.nextInt(BOUND_MS + 1);
    events.push({ key: active[random.nextInt(active.length)] as string, ts, value: 1 + random.nextInt(9), seq });
  }
  return events;
}

/**
 * The records of the correctness tests: 3000, 85% out of order within the watermark bound, 15%
 * moved back beyond it by up to 2.5 s.
 */
export const EVENTS = makeEvents({ seed: 1, count: 3_000, keys: 16, beyondBound: 0.15, beyondMs: 2_500 });
/** A second set: more keys, a third of the records beyond the bound, by up to 6 s. */
export const EVENTS_WIDE = makeEvents({ seed: 2, count: 5_000, keys: 40, beyondBound: 0.3, beyondMs: 6_000 });
export const SHAPES: readonly WindowShape[] = [
  { kind: "tumbling", size: 1_000 },
  { kind: "sliding", size: 2_000, slide: 500 },
  { kind: "session", gap: 300 },
];

/** Bounded out-of-orderness, punctuated: watermark = largest timestamp − bound − 1, right after each record. */
export function punctuatedBoundedOutOfOrderness<T>(boundMs: number): WatermarkGenerator<T> {
  let maxTs = Number.NEGATIVE_INFINITY;
  return {
    onEvent(_event, timestamp, output) {
      if (timestamp > maxTs) {
        maxTs = timestamp;
        output.emitWatermark(maxTs - boundMs - 1);
      }
    },
    onPeriodicEmit() {},
  };
}

/** A reduce result with its window's end (from the result's timestamp, the window's max timestamp). */
export interface ReducedResult {
  readonly key: string;
  readonly end: number;
  readonly sum: number;
  readonly maxTs: number;
  readonly minSeq: number;
}
export interface AggregatedResult {
  readonly key: string;
  readonly end: number;
  readonly count: number;
  readonly sum: number;
  readonly seqSum: number;
}
export interface ProcessedResult {
  readonly key: string;
  readonly start: number;
  readonly end: number;
  readonly seqs: number[];
}

export const reduced = collectSink<ReducedResult>("reduced");
export const aggregated = collectSink<AggregatedResult>("aggregated");
export const processed = collectSink<ProcessedResult>("processed");
/** The aggregate again, without a late side output: its late records are dropped and counted (`lateRecordsDropped`). */
export const aggregatedDropping = collectSink<AggregatedResult>("aggregated-dropping");
/** The name of that window operator, for `result.metrics(...)`. */
export const DROPPING_OPERATOR = "AggregateDroppingLate";
export const lateReduced = collectSink<Event>("late-reduced");
export const lateAggregated = collectSink<Event>("late-aggregated");
export const lateProcessed = collectSink<Event>("late-processed");

const lateTag = outputTag<Event>("late-events");

/** The accumulator takes the key from the records (as the book's AvgTempFunction does): a result has no other. */
type Acc = { key: string; count: number; sum: number; seqSum: number };
const countSumSeqs: AggregateFunction<Event, Acc, Acc> = {
  createAccumulator: () => ({ key: "", count: 0, sum: 0, seqSum: 0 }),
  add: (e, acc) => ({ key: e.key, count: acc.count + 1, sum: acc.sum + e.value, seqSum: acc.seqSum + e.seq }),
  getResult: (acc) => acc,
  merge: (a, b) => ({ key: a.key || b.key, count: a.count + b.count, sum: a.sum + b.sum, seqSum: a.seqSum + b.seqSum }),
};

function assignerOf(shape: WindowShape): WindowAssigner<Event, TimeWindow> {
  switch (shape.kind) {
    case "tumbling":
      return tumblingEventTimeWindows<Event>(shape.size);
    case "sliding":
      return slidingEventTimeWindows<Event>(shape.size, shape.slide);
    case "session":
      return eventTimeSessionWindows<Event>(shape.gap);
  }
}

export interface CorrectnessCase {
  readonly shape: WindowShape;
  readonly latenessMs: number;
  /** Parallelism of the window operators (the source has one shard). */
  readonly parallelism: number;
}

/**
 * The correctness job over `events`: reduce, aggregate and process windows of one shape, each with
 * its late side output, and the aggregate once more without one. Results are collected by sink
 * shards of the windows' parallelism, chained to them, so each window shard's results stay where
 * they were computed (on its node, in a cluster).
 */
export function correctnessJob(events: readonly Event[], c: CorrectnessCase): JobDefinition {
  return defineJob({ name: `window-correctness-${c.shape.kind}-${c.latenessMs}-p${c.parallelism}` }, (env) => {
    env.setAutoWatermarkInterval(0);
    const keyed = env
      .fromSource(
        collectionSource(events),
        "Events",
        WatermarkStrategy.forGenerator(() => punctuatedBoundedOutOfOrderness<Event>(BOUND_MS)).withTimestampAssigner(
          (e) => e.ts,
        ),
      )
      .setParallelism(1)
      .keyBy((e) => e.key);
    const windowed = () => keyed.window(assignerOf(c.shape)).allowedLateness(c.latenessMs).sideOutputLateData(lateTag);

    const reduce = windowed()
      .reduce((a, b) => ({
        key: a.key,
        ts: Math.max(a.ts, b.ts),
        value: a.value + b.value,
        seq: Math.min(a.seq, b.seq),
      }))
      .name("Reduce")
      .setParallelism(c.parallelism);
    reduce
      .process({
        processElement(e: Event, ctx: ProcessContext, out: Collector<ReducedResult>) {
          out.collect({ key: e.key, end: (ctx.timestamp as number) + 1, sum: e.value, maxTs: e.ts, minSeq: e.seq });
        },
      })
      .setParallelism(c.parallelism)
      .collect(reduced)
      .setParallelism(c.parallelism);
    reduce.getSideOutput(lateTag).collect(lateReduced).setParallelism(c.parallelism);

    const aggregate = windowed().aggregate(countSumSeqs).name("Aggregate").setParallelism(c.parallelism);
    aggregate
      .process({
        processElement(acc: Acc, ctx: ProcessContext, out: Collector<AggregatedResult>) {
          out.collect({ ...acc, end: (ctx.timestamp as number) + 1 });
        },
      })
      .setParallelism(c.parallelism)
      .collect(aggregated)
      .setParallelism(c.parallelism);
    aggregate.getSideOutput(lateTag).collect(lateAggregated).setParallelism(c.parallelism);

    keyed
      .window(assignerOf(c.shape))
      .allowedLateness(c.latenessMs)
      .aggregate(countSumSeqs)
      .name(DROPPING_OPERATOR)
      .setParallelism(c.parallelism)
      .process({
        processElement(acc: Acc, ctx: ProcessContext, out: Collector<AggregatedResult>) {
          out.collect({ ...acc, end: (ctx.timestamp as number) + 1 });
        },
      })
      .setParallelism(c.parallelism)
      .collect(aggregatedDropping)
      .setParallelism(c.parallelism);

    const process = windowed()
      .process({
        process(
          key: string,
          ctx: ProcessWindowContext<TimeWindow, Record<never, never>, Record<never, never>>,
          elements: readonly Event[],
          out: Collector<ProcessedResult>,
        ) {
          out.collect({ key, start: ctx.window.start, end: ctx.window.end, seqs: elements.map((e) => e.seq) });
        },
      })
      .name("Process")
      .setParallelism(c.parallelism);
    process.collect(processed).setParallelism(c.parallelism);
    process.getSideOutput(lateTag).collect(lateProcessed).setParallelism(c.parallelism);
  });
}
