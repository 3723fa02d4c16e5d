import assert from "node:assert/strict";
import type { CollectSink } from "@keyflow/functions-sdk";
import {
  type AggregatedResult,
  aggregated,
  aggregatedDropping,
  BOUND_MS,
  type CorrectnessCase,
  lateAggregated,
  lateProcessed,
  lateReduced,
  type ProcessedResult,
  processed,
  type ReducedResult,
  reduced,
} from "./correctness-job.js";
import { type Event, type Firing, referenceWindows } from "./window-reference.js";

/** Reads a collect sink of a finished run: `result.get`, or the merge of every node's collected records. */
export type Collected = <T>(sink: CollectSink<T>) => readonly T[];

/** Results grouped by window id, each group in emission order (a key's results all come from one shard, in order). */
function byWindow<T>(results: readonly T[], id: (result: T) => string): Record<string, T[]> {
  const groups: Record<string, T[]> = {};
  for (const result of results) (groups[id(result)] ??= []).push(result);
  return Object.fromEntries(Object.entries(groups).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

const windowId = (r: { key: string; start: number; end: number }) => `${r.key}|${r.start}|${r.end}`;
/** Reduce and aggregate results know their window by its end (from their timestamp) only. */
const endId = (r: { key: string; end: number }) => `${r.key}|${r.end}`;

/** What the batch reference says each window function emits. */
export function expectedResults(events: readonly Event[], c: CorrectnessCase) {
  const reference = referenceWindows(events, c.shape, { boundMs: BOUND_MS, latenessMs: c.latenessMs });
  const of = (f: Firing) => f.seqs.map((seq) => events[seq] as Event);
  const processedResults = reference.firings.map(
    (f): ProcessedResult => ({ key: f.key, start: f.start, end: f.end, seqs: [...f.seqs] }),
  );
  const reducedResults = reference.firings.map(
    (f): ReducedResult => ({
      key: f.key,
      end: f.end,
      sum: of(f).reduce((n, e) => n + e.value, 0),
      maxTs: Math.max(...of(f).map((e) => e.ts)),
      minSeq: Math.min(...f.seqs),
    }),
  );
  const aggregatedResults = reference.firings.map(
    (f): AggregatedResult => ({
      key: f.key,
      end: f.end,
      count: f.seqs.length,
      sum: of(f).reduce((n, e) => n + e.value, 0),
      seqSum: f.seqs.reduce((n, seq) => n + seq, 0),
    }),
  );
  return { reference, processedResults, reducedResults, aggregatedResults };
}

/**
 * Checks a run's results against the batch reference: every firing of every window, in order per
 * window, for the three window functions, and exactly the reference's late records on each late
 * side output. Session windows' contents are compared as sets (merging may reorder them).
 */
export function checkAgainstReference(get: Collected, events: readonly Event[], c: CorrectnessCase): void {
  const expected = expectedResults(events, c);
  const sortSeqs = (r: ProcessedResult): ProcessedResult =>
    c.shape.kind === "session" ? { ...r, seqs: [...r.seqs].sort((a, b) => a - b) } : r;

  assert.deepEqual(
    byWindow(get(processed).map(sortSeqs), windowId),
    byWindow(expected.processedResults.map(sortSeqs), windowId),
    "process window function firings",
  );
  assert.deepEqual(byWindow(get(reduced), endId), byWindow(expected.reducedResults, endId), "reduce firings");
  assert.deepEqual(byWindow(get(aggregated), endId), byWindow(expected.aggregatedResults, endId), "aggregate firings");
  assert.deepEqual(
    byWindow(get(aggregatedDropping), endId),
    byWindow(expected.aggregatedResults, endId),
    "aggregate firings without a late side output",
  );
  const lateSeqs = expected.reference.late;
  for (const [name, sink] of [
    ["reduce", lateReduced],
    ["aggregate", lateAggregated],
    ["process", lateProcessed],
  ] as const) {
    const actual = get(sink)
      .map((e) => e.seq)
      .sort((a, b) => a - b);
    assert.deepEqual(actual, lateSeqs, `late records of the ${name} window`);
    for (const e of get(sink)) assert.deepEqual(e, events[e.seq], "a late record arrives unchanged");
  }
}
