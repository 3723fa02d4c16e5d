/**
 * The batch reference for event-time windows: what a window operator must emit for records that
 * reach it in source order, with a punctuated bounded-out-of-orderness watermark after every
 * record (watermark = largest timestamp so far − bound − 1). Written apart from the runtime, as
 * plain computations over the whole record list:
 *
 * 1. the watermark each record meets on arrival: the largest earlier timestamp − bound − 1;
 * 2. for tumbling and sliding windows, each record joins each of its windows that is still kept
 *    (end − 1 + allowed lateness > that watermark); a record kept by none is late. A window's
 *    records that came before the watermark passed its end fire together once; each that came
 *    after (within the allowed lateness) fires the window again, with everything so far;
 * 3. session windows merge as records come, so they are replayed record by record: each record's
 *    [ts, ts + gap) merges with the key's kept sessions it touches; a record whose merged session
 *    is past its allowed lateness is late; a session fires when the watermark passes its end, and
 *    again for each record that lands in it after that.
 */

/** A record of the correctness tests: `seq` is its position in the source. */
export interface Event {
  readonly key: string;
  readonly ts: number;
  readonly value: number;
  readonly seq: number;
}

export type WindowShape =
  | { readonly kind: "tumbling"; readonly size: number }
  | { readonly kind: "sliding"; readonly size: number; readonly slide: number }
  | { readonly kind: "session"; readonly gap: number };

/** One firing of one window: the seqs of the records it held, in arrival order. */
export interface Firing {
  readonly key: string;
  readonly start: number;
  readonly end: number;
  readonly seqs: readonly number[];
}

export interface Reference {
  /** Every firing; per window, in the order they happen. */
  readonly firings: readonly Firing[];
  /** Seqs of the late records (dropped, or sent to the late side output), in source order. */
  readonly late: readonly number[];
}

/** The watermark each record meets when it arrives (−Infinity for the first). */
export function arrivalWatermarks(events: readonly Event[], boundMs: number): number[] {
  const watermarks: number[] = [];
  let maxTs = Number.NEGATIVE_INFINITY;
  for (const event of events) {
    watermarks.push(maxTs - boundMs - 1);
    maxTs = Math.max(maxTs, event.ts);
  }
  return watermarks;
}

function floorTo(ts: number, step: number): number {
  return ts - (((ts % step) + step) % step);
}

/** The [start, end) windows of a tumbling or sliding shape that hold `ts`. */
function windowsOf(shape: Exclude<WindowShape, { kind: "session" }>, ts: number): Array<[number, number]> {
  if (shape.kind === "tumbling") {
    const start = floorTo(ts, shape.size);
    return [[start, start + shape.size]];
  }
  const windows: Array<[number, number]> = [];
  for (let start = floorTo(ts, shape.slide); start > ts - shape.size; start -= shape.slide) {
    windows.push([start, start + shape.size]);
  }
  return windows;
}

export function referenceWindows(
  events: readonly Event[],
  shape: WindowShape,
  options: { readonly boundMs: number; readonly latenessMs: number },
): Reference {
  const watermarks = arrivalWatermarks(events, options.boundMs);
  return shape.kind === "session"
    ? replaySessions(events, watermarks, shape.gap, options.latenessMs)
    : bucket(events, watermarks, shape, options.latenessMs);
}

function bucket(
  events: readonly Event[],
  watermarks: readonly number[],
  shape: Exclude<WindowShape, { kind: "session" }>,
  latenessMs: number,
): Reference {
  const windows = new Map<string, { key: string; start: number; end: number; onTime: number[]; after: number[] }>();
  const late: number[] = [];
  for (const event of events) {
    const wm = watermarks[event.seq] as number;
    let kept = false;
    for (const [start, end] of windowsOf(shape, event.ts)) {
      if (end - 1 + latenessMs <= wm) continue;
      kept = true;
      const id = `${event.key}|${start}`;
      let window = windows.get(id);
      if (window === undefined) {
        window = { key: event.key, start, end, onTime: [], after: [] };
        windows.set(id, window);
      }
      (end - 1 <= wm ? window.after : window.onTime).push(event.seq);
    }
    if (!kept) late.push(event.seq);
  }
  const firings: Firing[] = [];
  for (const { key, start, end, onTime, after } of windows.values()) {
    let seqs = onTime;
    if (seqs.length > 0) firings.push({ key, start, end, seqs });
    for (const seq of after) {
      seqs = [...seqs, seq];
      firings.push({ key, start, end, seqs });
    }
  }
  return { firings, late };
}

interface Session {
  start: number;
  end: number;
  seqs: number[];
  /** Its end-of-window timer is set and has not fired. */
  pending: boolean;
}

function replaySessions(
  events: readonly Event[],
  watermarks: readonly number[],
  gap: number,
  latenessMs: number,
): Reference {
  const sessions = new Map<string, Session[]>();
  const firings: Firing[] = [];
  const late: number[] = [];
  const fire = (key: string, s: Session) => firings.push({ key, start: s.start, end: s.end, seqs: [...s.seqs] });

  /** The watermark reached `wm`: sessions whose end passed fire; those past their lateness go. */
  const advance = (wm: number) => {
    for (const [key, kept] of sessions) {
      for (const s of [...kept].sort((a, b) => a.end - b.end)) {
        if (s.pending && s.end - 1 <= wm) {
          s.pending = false;
          fire(key, s);
        }
      }
      sessions.set(
        key,
        kept.filter((s) => s.end - 1 + latenessMs > wm),
      );
    }
  };

  let current = Number.NEGATIVE_INFINITY;
  for (const event of events) {
    const wm = watermarks[event.seq] as number;
    if (wm > current) {
      advance(wm);
      current = wm;
    }
    const kept = sessions.get(event.key) ?? [];
    // Merge [ts, ts + gap) with every kept session it touches, transitively (sessions never touch each other).
    let start = event.ts;
    let end = event.ts + gap;
    const touching = kept.filter((s) => s.start <= end && s.end >= start);
    for (const s of touching) {
      start = Math.min(start, s.start);
      end = Math.max(end, s.end);
    }
    if (end - 1 + latenessMs <= wm) {
      late.push(event.seq);
      continue;
    }
    const merged: Session = {
      start,
      end,
      seqs: [...touching.flatMap((s) => s.seqs), event.seq],
      pending: end - 1 > wm,
    };
    sessions.set(event.key, [...kept.filter((s) => !touching.includes(s)), merged]);
    // Already past its end: the record fires it at once.
    if (!merged.pending) fire(event.key, merged);
  }
  advance(Number.POSITIVE_INFINITY);
  return { firings, late };
}
