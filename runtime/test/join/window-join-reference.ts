import type { Event } from "./interval-join-reference.js";

/** A window of one key, as the test computes it: its records of both sides and its last timestamp. */
export interface KeyWindow {
  readonly key: string;
  readonly maxTimestamp: number;
  readonly lefts: Event[];
  readonly rights: Event[];
}

/** Windows of time as [start, end) pairs that contain `ts`. */
export type WindowsOf = (ts: number) => Array<readonly [number, number]>;

export const tumbling =
  (size: number): WindowsOf =>
  (ts) => {
    const start = ts - (ts % size);
    return [[start, start + size]];
  };

export const sliding =
  (size: number, slide: number): WindowsOf =>
  (ts) => {
    const windows: Array<readonly [number, number]> = [];
    for (let start = ts - (ts % slide); start > ts - size; start -= slide) windows.push([start, start + size]);
    return windows;
  };

/** Per key and window, the records of each side, for fixed (non-merging) windows. */
export function fixedWindows(lefts: readonly Event[], rights: readonly Event[], windowsOf: WindowsOf): KeyWindow[] {
  const windows = new Map<string, KeyWindow>();
  const add = (event: Event, side: "lefts" | "rights") => {
    for (const [, end] of windowsOf(event.ts)) {
      const id = `${event.key}@${end - 1}`;
      let window = windows.get(id);
      if (window === undefined) {
        window = { key: event.key, maxTimestamp: end - 1, lefts: [], rights: [] };
        windows.set(id, window);
      }
      window[side].push(event);
    }
  };
  for (const event of lefts) add(event, "lefts");
  for (const event of rights) add(event, "rights");
  return [...windows.values()];
}

/**
 * Per key, the session windows of both sides' records together: sorted by time, a record starts
 * a new session when it is more than `gap` after the previous one (Flink merges [t, t + gap)
 * windows that overlap or touch). A session's last timestamp is its last record's + gap − 1.
 */
export function sessionWindows(lefts: readonly Event[], rights: readonly Event[], gap: number): KeyWindow[] {
  const byKey = new Map<string, Array<{ event: Event; side: "lefts" | "rights" }>>();
  for (const [side, events] of [
    ["lefts", lefts],
    ["rights", rights],
  ] as const) {
    for (const event of events) {
      const list = byKey.get(event.key) ?? [];
      list.push({ event, side });
      byKey.set(event.key, list);
    }
  }
  const windows: KeyWindow[] = [];
  for (const [key, list] of byKey) {
    list.sort((a, b) => a.event.ts - b.event.ts);
    let session: { lefts: Event[]; rights: Event[] } = { lefts: [], rights: [] };
    let last = Number.NEGATIVE_INFINITY;
    for (const { event, side } of list) {
      if (event.ts - last > gap && last !== Number.NEGATIVE_INFINITY) {
        windows.push({ key, maxTimestamp: last + gap - 1, ...session });
        session = { lefts: [], rights: [] };
      }
      session[side].push(event);
      last = event.ts;
    }
    windows.push({ key, maxTimestamp: last + gap - 1, ...session });
  }
  return windows;
}

/** Inner join by nested loops in each window: "left|right@window max timestamp", sorted. */
export function joinPairs(windows: readonly KeyWindow[]): string[] {
  const pairs: string[] = [];
  for (const window of windows) {
    for (const left of window.lefts) {
      for (const right of window.rights) pairs.push(`${left.id}|${right.id}@${window.maxTimestamp}`);
    }
  }
  return pairs.sort();
}

/** One line per window and key: "key@max timestamp:left ids/right ids", ids sorted, sorted. */
export function coGroupLines(windows: readonly KeyWindow[]): string[] {
  return windows.map((w) => coGroupLine(w.key, w.maxTimestamp, w.lefts, w.rights)).sort();
}

export function coGroupLine(key: string, ts: number, lefts: readonly Event[], rights: readonly Event[]): string {
  return `${key}@${ts}:${idsOf(lefts)}/${idsOf(rights)}`;
}

/** The records' ids, sorted, comma-separated. */
export function idsOf(events: readonly Event[]): string {
  return events
    .map((e) => e.id)
    .sort()
    .join(",");
}
