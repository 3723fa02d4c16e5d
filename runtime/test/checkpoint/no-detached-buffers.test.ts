import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const PROBE = fileURLToPath(new URL("../fixtures/detach-probe.js", import.meta.url));
const INVALIDATED = "Invalidating protector cell ArrayBufferDetaching";

/**
 * A shard's thread never detaches an ArrayBuffer: the first detach in a thread invalidates V8's
 * array-buffer-detaching protector, and its optimized code checks every typed array access from
 * then on (the counting benchmark lost about a fifth). Checkpoints hand their copied columns to
 * the encoder's thread on SharedArrayBuffers, and worker threads clone what they post.
 */
describe("checkpointing without detached buffers", () => {
  async function probe(mode: "embedded" | "workers", detach = false) {
    const dir = await mkdtemp(join(tmpdir(), "kf-detach-"));
    try {
      const run = spawnSync(process.execPath, [PROBE, dir, mode, ...(detach ? ["detach"] : [])], {
        encoding: "utf8",
        timeout: 120_000,
      });
      assert.equal(run.status, 0, run.stderr);
      const lines = run.stdout.trim().split("\n");
      const result = JSON.parse(lines.at(-1) as string) as { completed: number; stoppedAt: number | null };
      // Its full snapshots of 20,000 keys were copied to columns for the encoder's thread.
      assert.ok(result.completed >= 3, `checkpoints completed: ${result.completed}`);
      assert.notEqual(result.stoppedAt, null, "the job stopped at its savepoint");
      return lines.filter((line) => line.includes(INVALIDATED)).length;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it("on the calling thread, with the store's encoder thread writing the copied columns", async () => {
    assert.equal(await probe("embedded"), 0);
  });

  it("on worker threads, with channels and checkpoint messages between them", async () => {
    assert.equal(await probe("workers"), 0);
  });

  it("would see a detach: the probe's own one is traced", async () => {
    assert.equal(await probe("embedded", true), 1);
  });
});
