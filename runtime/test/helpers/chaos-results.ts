// Checks of the chaos job's results (fixtures/chaos-job.ts) shared by its crash tests.
import assert from "node:assert/strict";
import { expected, type Total, type WindowCount } from "../fixtures/chaos-job.js";

const byKey = (a: Total, b: Total) => a.key.localeCompare(b.key);

/**
 * Keyed totals equal the failure-free run's (exactly-once state), and every window result is
 * exact and comes once. Returns how many windows there were.
 */
export function assertChaosResults(totals: readonly Total[], windows: readonly WindowCount[]): number {
  const truth = expected();
  assert.deepEqual([...totals].sort(byKey), [...truth.totals].sort(byKey));
  const truthWindows = new Map(truth.windows.map((w) => [`${w.key}@${w.end}`, w.count]));
  const seen = new Set<string>();
  for (const w of windows) {
    const id = `${w.key}@${w.end}`;
    assert.equal(seen.has(id), false, `window ${id} emitted twice`);
    seen.add(id);
    assert.equal(w.count, truthWindows.get(id), `window ${id}`);
  }
  return seen.size;
}
