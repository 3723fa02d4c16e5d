import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { execute } from "@keyflow/runtime";
import { checkAgainstReference, expectedResults } from "./correctness-check.js";
import {
  type CorrectnessCase,
  correctnessJob,
  DROPPING_OPERATOR,
  EVENTS,
  EVENTS_WIDE,
  SHAPES,
} from "./correctness-job.js";
import type { WindowShape } from "./window-reference.js";

/**
 * Window results of the runtime equal the batch reference's — every firing of every window,
 * including which records are late — for tumbling, sliding and session windows, with and without
 * allowed lateness, at parallelism 1 and 4, on 3000 seeded records: 85% out of order within the
 * watermark bound, 15% moved back beyond it by up to 2.5 s.
 */
describe("event-time windows against the batch reference (embedded)", () => {
  for (const shape of SHAPES) {
    for (const latenessMs of [0, 1_000]) {
      for (const parallelism of [1, 4]) {
        const c: CorrectnessCase = { shape, latenessMs, parallelism };
        it(`${shape.kind} windows, allowed lateness ${latenessMs} ms, parallelism ${parallelism}: identical results and late records`, async () => {
          const result = await execute(correctnessJob(EVENTS, c), { workers: 0 });
          checkAgainstReference((sink) => result.get(sink), EVENTS, c);
          // Without a late side output, the late records are dropped and counted; with one, none are.
          const late = expectedResults(EVENTS, c).reference.late.length;
          assert.deepEqual(result.metrics(DROPPING_OPERATOR), { lateRecordsDropped: late });
          assert.deepEqual(result.metrics("Aggregate"), { lateRecordsDropped: 0 });
        });
      }
    }
  }

  for (const shape of SHAPES) {
    const c: CorrectnessCase = { shape, latenessMs: 2_500, parallelism: 4 };
    it(`${shape.kind} windows on a second, wider set (40 keys, 30% beyond the bound by up to 6 s), allowed lateness 2500 ms`, async () => {
      const result = await execute(correctnessJob(EVENTS_WIDE, c), { workers: 0 });
      checkAgainstReference((sink) => result.get(sink), EVENTS_WIDE, c);
      const late = expectedResults(EVENTS_WIDE, c).reference.late.length;
      assert.ok(late > 0, "some records are late even with the allowed lateness");
      assert.deepEqual(result.metrics(DROPPING_OPERATOR), { lateRecordsDropped: late });
    });
  }

  it("the seeded records exercise late drops, late updates and session merges", () => {
    const late0 = expectedResults(EVENTS, { shape: SHAPES[0] as WindowShape, latenessMs: 0, parallelism: 1 });
    assert.ok(late0.reference.late.length > 100, "many records are late without allowed lateness");
    const updated = expectedResults(EVENTS, { shape: SHAPES[0] as WindowShape, latenessMs: 1_000, parallelism: 1 });
    assert.ok(updated.reference.firings.length > updated.processedResults.length / 2);
    assert.ok(updated.reference.late.length < late0.reference.late.length, "allowed lateness keeps some");
    const sessions = expectedResults(EVENTS, { shape: SHAPES[2] as WindowShape, latenessMs: 1_000, parallelism: 1 });
    const starts = new Map<string, Set<number>>();
    for (const f of sessions.reference.firings) {
      const id = `${f.key}|${f.end}`;
      starts.set(id, (starts.get(id) ?? new Set()).add(f.start));
    }
    assert.ok(
      [...starts.values()].some((s) => s.size > 1),
      "a late record extended a fired session backwards",
    );
  });
});
