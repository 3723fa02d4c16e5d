import { type Collector, type ProcessJoinFunction, SeededRandom, WatermarkStrategy } from "@keyflow/functions-sdk";

/** A record of either side of the join tests: its key, event time and a unique id ("L7", "R12"). */
export interface Event {
  readonly key: string;
  readonly ts: number;
  readonly id: string;
}

export interface Bounds {
  readonly lower: number;
  readonly upper: number;
  readonly lowerExclusive?: boolean;
  readonly upperExclusive?: boolean;
}

/**
 * `count` events of side `prefix` over `keys` keys, in emission order: the i-th has a timestamp
 * in [3i, 3i + disorder), so a record may trail records emitted before it by up to `disorder` ms
 * and a watermark of (largest timestamp so far − disorder − 1) never makes one late.
 */
export function events(prefix: string, count: number, keys: number, disorder: number, seed: number): Event[] {
  const random = new SeededRandom(seed);
  return Array.from({ length: count }, (_, i) => ({
    key: `k${random.nextInt(keys)}`,
    ts: 3 * i + random.nextInt(disorder),
    id: `${prefix}${i}`,
  }));
}

/** A punctuated strategy: after each record, the watermark trails the largest timestamp by the disorder bound. */
export function punctuated(disorder: number): WatermarkStrategy<Event> {
  return WatermarkStrategy.forGenerator<Event>(() => {
    let max = Number.NEGATIVE_INFINITY;
    return {
      onEvent(_event, ts, output) {
        if (ts > max) max = ts;
        output.emitWatermark(max - disorder - 1);
      },
      onPeriodicEmit() {},
    };
  }).withTimestampAssigner((event) => event.ts);
}

/** Whether a right record at `rightTs` joins a left record at `leftTs`, straight from the bounds' definition. */
export function inBounds(leftTs: number, rightTs: number, bounds: Bounds): boolean {
  const from = leftTs + bounds.lower;
  const to = leftTs + bounds.upper;
  const aboveLower = bounds.lowerExclusive === true ? rightTs > from : rightTs >= from;
  const belowUpper = bounds.upperExclusive === true ? rightTs < to : rightTs <= to;
  return aboveLower && belowUpper;
}

/** What the join must emit, by nested loops over both sides: "left|right|pair timestamp", sorted. */
export function nestedLoopJoin(lefts: readonly Event[], rights: readonly Event[], bounds: Bounds): string[] {
  const pairs: string[] = [];
  for (const left of lefts) {
    for (const right of rights) {
      if (left.key === right.key && inBounds(left.ts, right.ts, bounds)) {
        pairs.push(pairOf(left.id, right.id, Math.max(left.ts, right.ts)));
      }
    }
  }
  return pairs.sort();
}

export function pairOf(left: string, right: string, ts: number): string {
  return `${left}|${right}|${ts}`;
}

/** A join function that emits "left|right|ctx.timestamp" and checks the context's two timestamps against the records. */
export function describePairs(): ProcessJoinFunction<Event, Event, string> {
  return {
    processElement(left: Event, right: Event, ctx, out: Collector<string>) {
      if (ctx.leftTimestamp !== left.ts || ctx.rightTimestamp !== right.ts) {
        throw new Error(`context timestamps ${ctx.leftTimestamp}/${ctx.rightTimestamp} for ${left.id}/${right.id}`);
      }
      out.collect(pairOf(left.id, right.id, ctx.timestamp));
    },
  };
}
