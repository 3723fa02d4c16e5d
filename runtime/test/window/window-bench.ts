/**
 * Not a test: measures the window operator in-process, without sources or channels.
 * `node runtime/dist/test/window/window-bench.js [records] [recordsPerMs]`
 *
 * 10,000 keys, sliding event-time windows of 10 s every 1 s, counting with an AggregateFunction;
 * a watermark (largest timestamp − 1) after every 1,000 records. Prints records/s of a plain
 * loop computing the same per-window counts, of the aligned fast path, and of the general
 * operator (the same job with an explicit event-time trigger), each the best of 3 runs.
 *
 * WINDOW_BENCH_CHECKPOINTS=n: the operators also take an incremental checkpoint every n records
 * (marked, read at once, completed), so changes are tracked throughout; compare with the default.
 */
import {
  type AggregateFunction,
  collectSink,
  defineJob,
  eventTimeTrigger,
  slidingEventTimeWindows,
  type TimeWindow,
} from "@keyflow/functions-sdk";
import { WindowHarness } from "../helpers/window-harness.js";

const RECORDS = Number(process.argv[2] ?? 2_000_000);
const PER_MS = Number(process.argv[3] ?? 10);
const CHECKPOINT_EVERY = Number(process.env.WINDOW_BENCH_CHECKPOINTS ?? 0);
const KEYS = 10_000;
const SIZE = 10_000;
const SLIDE = 1_000;

interface Event {
  readonly key: string;
  readonly ts: number;
}
const keys = Array.from({ length: KEYS }, (_, i) => `key-${i}`);
const events: Event[] = Array.from({ length: RECORDS }, (_, i) => ({
  key: keys[(i * 7919) % KEYS] as string,
  ts: Math.floor(i / PER_MS),
}));

const count: AggregateFunction<Event, number, number> = {
  createAccumulator: () => 0,
  add: (_e, n) => n + 1,
  getResult: (n) => n,
};

/**
 * The same counts by hand: a Map per key from window start to count, and the keys of each window
 * end in a list, so the watermark fires (sums and drops) exactly the windows it passed.
 */
function plainLoop(): number {
  const windows = new Map<string, Map<number, number>>();
  const endings = new Map<number, string[]>();
  let nextEnd = Number.POSITIVE_INFINITY;
  let total = 0;
  const fire = (watermark: number): void => {
    while (nextEnd - 1 <= watermark) {
      const start = nextEnd - SIZE;
      for (const key of endings.get(nextEnd) ?? []) {
        const mine = windows.get(key) as Map<number, number>;
        total += mine.get(start) as number;
        mine.delete(start);
        if (mine.size === 0) windows.delete(key);
      }
      endings.delete(nextEnd);
      nextEnd = endings.size === 0 ? Number.POSITIVE_INFINITY : Math.min(...endings.keys());
    }
  };
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as Event;
    let mine = windows.get(e.key);
    if (mine === undefined) {
      mine = new Map();
      windows.set(e.key, mine);
    }
    const last = e.ts - (e.ts % SLIDE);
    for (let start = last; start > e.ts - SIZE; start -= SLIDE) {
      const n = mine.get(start);
      if (n === undefined) {
        mine.set(start, 1);
        const end = start + SIZE;
        const keysEnding = endings.get(end);
        if (keysEnding === undefined) endings.set(end, [e.key]);
        else keysEnding.push(e.key);
        if (end < nextEnd) nextEnd = end;
      } else mine.set(start, n + 1);
    }
    if (i % 1_000 === 999) fire(e.ts - 1);
  }
  fire(Number.MAX_SAFE_INTEGER);
  return total;
}

async function operatorRun(general: boolean): Promise<number> {
  const job = defineJob("bench", (env) => {
    const windowed = env
      .fromCollection<Event>([])
      .keyBy((e) => e.key)
      .window(slidingEventTimeWindows<Event>(SIZE, SLIDE));
    if (general) windowed.trigger(eventTimeTrigger<Event, TimeWindow>());
    windowed.aggregate(count).collect(collectSink("out"));
  });
  let total = 0;
  // Count results as they come instead of keeping them.
  const harness = new WindowHarness(job, undefined, (value) => {
    total += value as number;
  });
  await harness.open();
  const operator = harness.operator;
  let checkpoint = 0;
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as Event;
    operator.processRecord(e, e.ts, 0);
    if (i % 1_000 === 999) operator.processWatermark(e.ts - 1);
    if (CHECKPOINT_EVERY > 0 && i % CHECKPOINT_EVERY === 0) {
      const snapshot = operator.snapshotState(++checkpoint, "incremental");
      for (const _entry of snapshot?.keyed ?? []);
      snapshot?.release();
      await operator.notifyCheckpointComplete(checkpoint);
    }
  }
  operator.processWatermark(Number.MAX_SAFE_INTEGER);
  return total;
}

async function best(name: string, run: () => number | Promise<number>): Promise<number> {
  let fastest = Number.POSITIVE_INFINITY;
  let total = 0;
  for (let r = 0; r < 3; r++) {
    const started = performance.now();
    total = await run();
    fastest = Math.min(fastest, performance.now() - started);
  }
  const rate = RECORDS / (fastest / 1000);
  console.log(`${name.padEnd(24)} ${(rate / 1e6).toFixed(2)}M records/s  (${fastest.toFixed(0)} ms, counted ${total})`);
  return rate;
}

const only = process.env.WINDOW_BENCH_ONLY;
const plain = only === undefined || only === "plain" ? await best("plain loop", plainLoop) : Number.NaN;
const fast =
  only === undefined || only === "fast" ? await best("aligned fast path", () => operatorRun(false)) : Number.NaN;
const general =
  only === undefined || only === "general" ? await best("general operator", () => operatorRun(true)) : Number.NaN;
console.log(
  `${RECORDS} records, ${KEYS} keys, ${PER_MS} per ms of event time: fast path ${(fast / plain).toFixed(2)}x of the plain loop, general ${(general / plain).toFixed(2)}x`,
);
