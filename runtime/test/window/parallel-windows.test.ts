import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { execute, type JobResult } from "../../src/index.js";
import windowJob, { data, sinks } from "../fixtures/window-job.js";
import { sorted } from "./window-test-kit.js";

const WINDOW_JOB = new URL("../fixtures/window-job.js", import.meta.url);
const OPERATORS = ["Sliding", "Tumbling", "Sessions", "Counts", "Continuous"];

/** Every sink's records in a canonical order, and every window operator's metrics. */
function outcome(result: JobResult) {
  const records = Object.fromEntries(Object.entries(sinks).map(([name, sink]) => [name, sorted(result.get(sink))]));
  const metrics = Object.fromEntries(OPERATORS.map((name) => [name, result.metrics(name)]));
  return { records, metrics };
}

describe("window operators at any parallelism", () => {
  it("give the same results at parallelism 4, and on two worker threads, as at parallelism 1", async () => {
    const p1 = outcome(await execute(windowJob, { parallelism: 1, workers: 0 }));
    for (const [name, records] of Object.entries(p1.records)) assert.ok(records.length > 0, `${name} has results`);
    assert.ok(p1.records.late?.length, "some readings are too late even for the allowed lateness");
    // Late readings of the other event-time windows (no side output) are dropped and counted.
    assert.ok((p1.metrics.Sliding?.lateRecordsDropped ?? 0) > 0);
    assert.equal(p1.metrics.Tumbling?.lateRecordsDropped, 0, "late readings went to the side output instead");
    assert.equal(p1.metrics.Counts?.lateRecordsDropped, 0, "count windows have no late readings");
    assert.ok(data.length > 1_000);

    const p4 = outcome(await execute(windowJob, { parallelism: 4, workers: 0 }));
    assert.deepEqual(p4, p1);
    const threads = outcome(await execute(WINDOW_JOB, { parallelism: 4, workers: 2 }));
    assert.deepEqual(threads, p1);
  });
});
