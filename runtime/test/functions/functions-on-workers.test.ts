import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { execute, type JobResult } from "../../src/index.js";
import { assertSameResults, assertScenarios, type ScenarioResults } from "./scenario-results.js";

const MODULE = new URL("../fixtures/functions-scenarios-job.js", import.meta.url);

const resultsOf =
  (result: JobResult): ScenarioResults =>
  (sink) =>
    result.collected.get(sink) ?? [];

describe("per-key functions on worker threads", () => {
  for (const parallelism of [2, 4]) {
    it(`count, ping-pong, self-message, fan out and delay exactly on 2 workers at parallelism ${parallelism}, as on one thread`, async () => {
      const onWorkers = await execute(MODULE, { parallelism, workers: 2 });
      assertScenarios(resultsOf(onWorkers), parallelism);
      const oneThread = await execute(MODULE, { parallelism, workers: 0 });
      assertScenarios(resultsOf(oneThread), parallelism);
      assertSameResults(resultsOf(onWorkers), resultsOf(oneThread));
    });
  }

  it("keep each key's messages in order across threads: every key's counts only grow", async () => {
    const result = await execute(MODULE, { parallelism: 4, workers: 2 });
    const last = new Map<string, number>();
    for (const r of result.collected.get("counts") as Array<{ id: string; count: number }>) {
      assert.ok(r.count >= (last.get(r.id) ?? 0), `${r.id}: ${r.count} after ${last.get(r.id)}`);
      last.set(r.id, r.count);
    }
  });
});
