/**
 * Shared pieces of the window tests: deterministic readings with bounded disorder, a punctuated
 * watermark strategy (watermarks follow records, so what is late does not depend on timing or
 * parallelism), and independent ways to compute what each window should hold.
 */
import {
  type Collector,
  collectionSource,
  type DataStream,
  type OperatorStream,
  SeededRandom,
  type StreamEnvironment,
  WatermarkStrategy,
} from "@keyflow/functions-sdk";

export interface Reading {
  readonly key: string;
  readonly ts: number;
  readonly v: number;
}

/** `count` readings over `keys` keys, timestamps rising by 0–20 ms with up to `disorderMs` of disorder. */
export function readings(count: number, keys: number, seed = 7, disorderMs = 40): Reading[] {
  const random = new SeededRandom(seed);
  const out: Reading[] = [];
  let clock = 0;
  for (let i = 0; i < count; i++) {
    clock += random.nextInt(21);
    out.push({ key: `k${random.nextInt(keys)}`, ts: Math.max(0, clock - random.nextInt(disorderMs + 1)), v: i % 13 });
  }
  return out;
}

/** Watermark = largest timestamp seen − bound − 1, emitted after each record. */
export function punctuated<T>(tsOf: (value: T) => number, boundMs: number): WatermarkStrategy<T> {
  return WatermarkStrategy.forGenerator<T>(() => {
    let max = Number.NEGATIVE_INFINITY;
    return {
      onEvent(_value, timestamp, output) {
        if (timestamp > max) max = timestamp;
        output.emitWatermark(max - boundMs - 1);
      },
      onPeriodicEmit() {},
    };
  }).withTimestampAssigner((value) => tsOf(value));
}

/** A source of `items` at parallelism 1 with punctuated watermarks, so every downstream shard sees the same event time. */
export function source<T>(env: StreamEnvironment, items: T[], tsOf: (value: T) => number, boundMs = 50) {
  return env.fromSource(collectionSource(items), "Events", punctuated(tsOf, boundMs)).setParallelism(1);
}

/** A window's result with the timestamp it was emitted with. */
export interface Stamped<T> {
  readonly value: T;
  readonly ts: number | undefined;
}

/** Appends the record's timestamp, so tests see that results carry `window.maxTimestamp()`. */
export function stamped<T>(stream: DataStream<T>): OperatorStream<Stamped<T>> {
  return stream.process({
    processElement(value: T, ctx, out: Collector<Stamped<T>>) {
      out.collect({ value, ts: ctx.timestamp });
    },
  });
}

/** Values in a canonical order (by their JSON), to compare results that come from several shards. */
export function sorted<T>(values: readonly T[]): T[] {
  return [...values].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
}

/** Every [start, start + size) with start a multiple of `slide` that holds `ts`, found by scanning (not by formula). */
export function windowsHolding(ts: number, size: number, slide: number): Array<[number, number]> {
  const windows: Array<[number, number]> = [];
  const from = Math.floor((ts - size - slide) / slide) * slide;
  for (let start = from; start <= ts + slide; start += slide) {
    if (start <= ts && ts < start + size) windows.push([start, start + size]);
  }
  return windows;
}

/** Groups records by key and window for aligned (tumbling/sliding) windows. */
export function groupByWindow<T extends Reading>(
  items: readonly T[],
  size: number,
  slide: number,
): Map<string, { key: string; start: number; end: number; items: T[] }> {
  const groups = new Map<string, { key: string; start: number; end: number; items: T[] }>();
  for (const item of items) {
    for (const [start, end] of windowsHolding(item.ts, size, slide)) {
      const id = `${item.key}|${start}`;
      let group = groups.get(id);
      if (group === undefined) {
        group = { key: item.key, start, end, items: [] };
        groups.set(id, group);
      }
      group.items.push(item);
    }
  }
  return groups;
}

/** Session windows per key, computed by sorting each key's timestamps and cutting at gaps (Flink: windows [ts, ts + gap) that touch merge). */
export function sessions<T extends Reading>(
  items: readonly T[],
  gapOf: (item: T) => number,
): Array<{ key: string; start: number; end: number; items: T[] }> {
  const byKey = new Map<string, T[]>();
  for (const item of items) byKey.set(item.key, [...(byKey.get(item.key) ?? []), item]);
  const out: Array<{ key: string; start: number; end: number; items: T[] }> = [];
  for (const [key, list] of byKey) {
    const ordered = [...list].sort((a, b) => a.ts - b.ts);
    let current: { key: string; start: number; end: number; items: T[] } | undefined;
    for (const item of ordered) {
      const end = item.ts + gapOf(item);
      if (current !== undefined && item.ts <= current.end) {
        current.end = Math.max(current.end, end);
        current.items.push(item);
      } else {
        if (current !== undefined) out.push(current);
        current = { key, start: item.ts, end, items: [item] };
      }
    }
    if (current !== undefined) out.push(current);
  }
  return out;
}
