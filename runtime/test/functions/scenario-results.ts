/** Checks shared by the functions tests on worker threads and clusters: results of functions-scenarios-job. */
import assert from "node:assert/strict";
import { SeededRandom } from "@keyflow/functions-sdk";
import {
  COUNTDOWN_N,
  COUNTDOWNS,
  FAN_OUT,
  KEYS,
  PLAYERS,
  RECORDS,
  REMINDERS,
  ROOTS,
  ROUNDS,
  SEQUENCE_LENGTH,
  SEQUENCERS,
} from "../fixtures/functions-scenarios-job.js";
import type { Count, Countdown, Total } from "./function-types.js";

/** What a run of functions-scenarios-job collected, by sink name. */
export type ScenarioResults = (sink: string) => readonly unknown[];

const sorted = (values: readonly unknown[]) => values.map((v) => JSON.stringify(v)).sort();

/** Final count per key, from a plain loop over the same generator (reader i of p makes records i, i+p, …). */
export function expectedCounts(parallelism: number, records = RECORDS): Map<string, number> {
  const expected = new Map<string, number>();
  for (let shard = 0; shard < parallelism; shard++) {
    const random = new SeededRandom(3 + shard);
    for (let i = shard; i < records; i += parallelism) {
      const key = `k${random.nextInt(KEYS)}`;
      expected.set(key, (expected.get(key) ?? 0) + (i % 7));
    }
  }
  return expected;
}

export function lastPerKey(records: readonly Count[]): Map<string, number> {
  const last = new Map<string, number>();
  for (const r of records) last.set(r.id, Math.max(last.get(r.id) ?? 0, r.count));
  return last;
}

/**
 * Every scenario's result is exact: each counter's final value, every rally, countdown, fan-out
 * sum, and the reminders that rang (each once: not the disarmed nor the cancelled ones).
 * `exactlyOnceEgress`: the counters' egress holds one value per message (false after restarts
 * from a checkpoint whose results were committed by a killed process).
 */
export function assertScenarios(get: ScenarioResults, parallelism: number, exactlyOnceEgress = true): void {
  const counts = get("counts") as Count[];
  if (exactlyOnceEgress) assert.equal(counts.length, RECORDS, "one egress value per counter message");
  assert.deepEqual(lastPerKey(counts), sortedMap(expectedCounts(parallelism)));
  assert.deepEqual(
    sorted(get("rallies")),
    sorted(
      PLAYERS.flatMap((id) => [
        { id, pings: -1, pongs: ROUNDS },
        { id, pings: ROUNDS + 1, pongs: -1 },
      ]),
    ),
    "rallies",
  );
  assert.deepEqual(
    sorted(get("countdowns") as Countdown[]),
    sorted(COUNTDOWNS.map((id) => ({ id, handled: COUNTDOWN_N + 1 }))),
    "countdowns",
  );
  const squares = (FAN_OUT * (FAN_OUT + 1) * (2 * FAN_OUT + 1)) / 6;
  assert.deepEqual(
    sorted(get("totals") as Total[]),
    sorted(ROOTS.map((id) => ({ id, sum: squares, replies: FAN_OUT }))),
    "fan-out sums",
  );
  assert.deepEqual(
    sorted(get("sequences")),
    sorted(SEQUENCERS.map((id) => ({ id: `${id}/receiver`, received: SEQUENCE_LENGTH, outOfOrder: 0 }))),
    "messages from one function to another arrive in the order sent",
  );
  const rang = REMINDERS.filter(([, m]) => m.kind === "arm" && m.tag === "a").map(([id]) => `${id}:a`);
  assert.deepEqual([...(get("rings") as string[])].sort(), rang.sort(), "reminders rang once, none cancelled");
  assert.deepEqual(
    lastPerKey(get("ring counts") as Count[]),
    new Map(rang.map((r) => [`ring-${r.split(":")[0]}`, 1])),
    "each ring's own delayed message arrived once",
  );
}

function sortedMap<V>(map: Map<string, V>): Map<string, V> {
  return new Map([...map].sort(([a], [b]) => a.localeCompare(b)));
}

/** The results of two runs are the same (counters: final values; everything else: as multisets). */
export function assertSameResults(a: ScenarioResults, b: ScenarioResults): void {
  assert.deepEqual(lastPerKey(a("counts") as Count[]), lastPerKey(b("counts") as Count[]));
  assert.equal(a("counts").length, b("counts").length);
  for (const sink of ["rallies", "countdowns", "totals", "rings", "ring counts", "sequences"]) {
    assert.deepEqual(sorted(a(sink)), sorted(b(sink)), sink);
  }
}
