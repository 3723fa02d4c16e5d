import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { collectSink } from "@keyflow/functions-sdk";
import { CheckpointStore, execute } from "../../src/index.js";
import {
  LARGE_STATE_KEYS,
  LARGE_STATE_ROUNDS,
  largeStateJob,
  largeStateKeyOf,
  largeTotals,
} from "../fixtures/large-state-job.js";

const LARGE_JOB = fileURLToPath(new URL("../fixtures/large-state-job.js", import.meta.url));

const KEYS = LARGE_STATE_KEYS;
const ROUNDS = LARGE_STATE_ROUNDS;
const keyOf = largeStateKeyOf;

/** Two faults, each restarting from a restored checkpoint, and every key's count exactly `rounds`, once. */
function assertExact(
  log: readonly string[],
  counts: ReadonlyArray<{ key: number | string; count: number }>,
  keys: number,
  rounds: number,
): void {
  assert.equal(log.filter((line) => line.startsWith("job failed")).length, 2, log.join("\n"));
  assert.ok(
    log.some((line) => /^restoring from checkpoint \d+/.test(line)),
    `a restart restored a checkpoint:\n${log.join("\n")}`,
  );
  assert.equal(counts.length, keys, "every key reached its last round once");
  assert.ok(counts.every((c) => c.count === rounds));
  assert.equal(new Set(counts.map((c) => c.key)).size, keys);
}

describe("recovery of a large state whose keys all change between checkpoints", () => {
  // Number keys and values cross to the store's encoder thread as Float64Arrays, strings as arrays.
  for (const [kind, keyed] of [
    ["number", (i: number): number | string => keyOf(i)],
    ["string", (i: number): number | string => `key-${keyOf(i)}`],
  ] as const) {
    it(`keeps every key's count exact through restarts (full snapshots copied at the mark, copy mode; ${kind} keys)`, async () => {
      const dir = await mkdtemp(join(tmpdir(), "kf-large-state-"));
      const store = await CheckpointStore.open(dir);
      const totals = collectSink<{ key: number | string; count: number }>("totals");
      // Faults late in the run, once each: the tables are in copy mode by then (most keys change
      // between two checkpoints at this rate), so restores come from copied snapshots.
      const faults = new Set([KEYS * 10 + 17, KEYS * 18 + 4_001]);
      const job = largeStateJob(
        keyed,
        (i) => {
          if (faults.delete(i)) throw new Error(`fault at ${i}`);
        },
        totals,
      );
      const log: string[] = [];
      try {
        const result = await execute(job, {
          workers: 0,
          checkpoints: { intervalMs: 20, storage: store },
          restartStrategy: { kind: "fixedDelay", attempts: 5, delayMs: 0 },
          log: (line) => log.push(line),
        });
        assertExact(log, result.get(totals), KEYS, ROUNDS);
      } finally {
        await store.close();
        await rm(dir, { recursive: true, force: true });
      }
    });
  }

  it("keeps every key's count exact through restarts on worker threads (columns shipped to the main thread's store)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kf-large-state-workers-"));
    const store = await CheckpointStore.open(join(dir, "store"));
    process.env.KEYFLOW_LARGE_FAIL_AT = [LARGE_STATE_KEYS * 10 + 17, LARGE_STATE_KEYS * 18 + 4_001].join(",");
    process.env.KEYFLOW_LARGE_MARKS = dir;
    const log: string[] = [];
    try {
      const result = await execute(LARGE_JOB, {
        parallelism: 2,
        workers: 2,
        checkpoints: { intervalMs: 20, storage: store },
        restartStrategy: { kind: "fixedDelay", attempts: 5, delayMs: 0 },
        log: (line) => log.push(line),
      });
      assertExact(log, result.get(largeTotals), LARGE_STATE_KEYS, LARGE_STATE_ROUNDS);
    } finally {
      delete process.env.KEYFLOW_LARGE_FAIL_AT;
      delete process.env.KEYFLOW_LARGE_MARKS;
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
