import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { CheckpointStore } from "../../../src/state/store/checkpoint-store.js";
import {
  changesFor,
  MAX_PARALLELISM,
  PARALLELISM,
  STORE_OPTIONS,
  statesUpTo,
  UID,
} from "../../fixtures/checkpoint-writer.js";
import { countRecords, modelEntries, restoredAt, type StateModel, tempDir, writeCheckpoint } from "./store-fixtures.js";

const WRITER = fileURLToPath(new URL("../../fixtures/checkpoint-writer.js", import.meta.url));

/**
 * Runs the writer fixture in `mode` and kills it with SIGKILL `delayMs` after it printed `line`.
 * Returns the last checkpoint it reported completed.
 */
function runAndKill(dir: string, mode: string, line: string, delayMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, dir, mode], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let killing = false;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the writer never printed "${line}"\n${stdout}${stderr}`));
    }, 60_000);
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      if (!killing && stdout.split("\n").includes(line)) {
        killing = true;
        setTimeout(() => child.kill("SIGKILL"), delayMs);
      }
    });
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("exit", (_code, signal) => {
      clearTimeout(timer);
      if (signal !== "SIGKILL") return reject(new Error(`the writer exited by itself\n${stdout}${stderr}`));
      const completed = [...stdout.matchAll(/^completed (\d+)$/gm)].map((match) => Number(match[1]));
      resolve(Math.max(0, ...completed));
    });
  });
}

async function assertIntact(dir: string, atLeast: number): Promise<number> {
  const store = await CheckpointStore.open(dir, STORE_OPTIONS);
  try {
    assert.deepEqual(store.openDamage, []);
    const { checkpoint, damage } = await store.latestUsable();
    assert.deepEqual(damage, []);
    const latest = checkpoint?.id ?? 0;
    assert.ok(latest >= atLeast, `checkpoint ${latest} is at least the last one reported completed, ${atLeast}`);
    const states = statesUpTo(latest);
    const retained = store.completed().map((metadata) => metadata.id);
    assert.deepEqual(retained, [latest, latest - 1]);
    for (const id of retained) {
      assert.deepEqual(
        await restoredAt(store, id, UID, MAX_PARALLELISM, PARALLELISM),
        modelEntries(states.get(id) as StateModel),
        `checkpoint ${id} restores exactly`,
      );
    }
    return latest;
  } finally {
    await store.close();
  }
}

describe("A process killed with SIGKILL while writing checkpoints", () => {
  it("leaves the last completed checkpoint intact, and what it was writing is removed at the next open", async () => {
    const { dir, remove } = await tempDir();
    try {
      const last = await runAndKill(dir, "stuck", "writing 4", 20);
      assert.equal(last, 3);
      assert.ok((await countRecords(dir)).ids.includes(4), "checkpoint 4 had written records when it was killed");
      assert.equal(await assertIntact(dir, 3), 3);
      assert.deepEqual((await countRecords(dir)).ids.includes(4), false);
    } finally {
      await remove();
    }
  });

  for (const delayMs of [0, 7, 23, 45, 90, 130]) {
    it(`recovers the newest completed checkpoint exactly when killed at any moment (${delayMs} ms after checkpoint 3)`, async () => {
      const { dir, remove } = await tempDir();
      try {
        const last = await runAndKill(dir, "continuous", "completed 3", delayMs);
        const latest = await assertIntact(dir, last);
        // Recovery goes on from there: the next checkpoint builds on the recovered one.
        const store = await CheckpointStore.open(dir, STORE_OPTIONS);
        try {
          const before = statesUpTo(latest).get(latest) as StateModel;
          const next = await writeCheckpoint(store, {
            id: latest + 1,
            uid: UID,
            maxParallelism: MAX_PARALLELISM,
            parallelism: PARALLELISM,
            modes: ["incremental"],
            before,
            changes: changesFor(latest + 1, before),
          });
          assert.deepEqual(await restoredAt(store, latest + 1, UID, MAX_PARALLELISM, 1), modelEntries(next));
        } finally {
          await store.close();
        }
      } finally {
        await remove();
      }
    });
  }
});
