import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  defineJob,
  type Source,
  type SourceOutput,
  type SourceReaderContext,
  valueState,
} from "@keyflow/functions-sdk";
import { CheckpointStore, execute, type JobControl } from "../../src/index.js";

/** A large table: past copy mode's threshold (10,000 keys). */
const KEYS = 20_000;

/** Emits the keys of `phases[0]`, waits for `release()`, then the next phase; ends after the last. */
class PhasedKeys implements Source<number> {
  readonly maxParallelism = 1;
  private released = 0;
  private wake: (() => void) | undefined;
  constructor(private readonly phases: readonly (readonly number[])[]) {}
  release(): void {
    this.released++;
    this.wake?.();
  }
  createReader(_context: SourceReaderContext) {
    let phase = 0;
    let at = 0;
    return {
      poll: (output: SourceOutput<number>, max: number) => {
        if (phase >= this.phases.length) return "end" as const;
        if (phase > this.released) return new Promise<void>((resolve) => (this.wake = resolve));
        const keys = this.phases[phase] as readonly number[];
        const n = Math.min(max, keys.length - at);
        for (let j = 0; j < n; j++) output.collect(keys[at++] as number);
        if (at === keys.length) {
          phase++;
          at = 0;
        }
        return "more" as const;
      },
      snapshotSplits: () => [],
    };
  }
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe("checkpoints of a large table of numbers, by comparing copies", () => {
  it("write the second checkpoint as what differs from the first, the third as tracked changes, and restore every count", async () => {
    const dir = await mkdtemp(join(tmpdir(), "keyflow-copy-comparison-"));
    const store = await CheckpointStore.open(dir);
    try {
      const phases = [range(0, KEYS), range(0, 2_000), range(5_000, 6_000), [KEYS + 1]];
      const source = new PhasedKeys(phases);
      let processed = 0;
      let control: JobControl | undefined;
      const job = defineJob("copy-comparison", (env) => {
        env
          .fromSource(source, "Keys")
          .keyBy((k) => k)
          .process({
            state: { count: valueState<number>({ defaultValue: 0 }) },
            processElement(_k, ctx) {
              ctx.state.count.update((ctx.state.count.value() ?? 0) + 1);
              processed++;
            },
          })
          .uid("counts")
          .discard();
      });
      const run = execute(job, {
        workers: 0,
        checkpoints: { intervalMs: 1_000_000_000, storage: store },
        onControl: (c) => {
          control = c;
        },
      });
      let total = 0;
      const ids: number[] = [];
      for (const phase of phases.slice(0, 3)) {
        total += phase.length;
        while (processed < total) await new Promise((resolve) => setTimeout(resolve, 5));
        ids.push((await (control as JobControl).checkpoint()).id);
        source.release();
      }
      source.release();
      await run;

      const modes = await Promise.all(ids.map(async (id) => (await store.describe(id)).operators.counts?.modes));
      assert.deepEqual(modes, [["full"], ["incremental"], ["incremental"]]);
      const written = await Promise.all(
        ids.map(async (id) => (await store.describe(id)).operators.counts?.writtenBytes),
      );
      assert.ok(
        (written[1] as number) < (written[0] as number) / 5,
        `the comparison wrote its 2000 keys only: ${written}`,
      );

      const countsAt = async (id: number) => {
        const counts = new Map<unknown, unknown>();
        for await (const entry of store.restoreKeyed(id, "counts", { start: 0, end: 127 })) {
          counts.set(entry.key, entry.value);
        }
        return counts;
      };
      const expected = (changed: readonly number[][]) => {
        const counts = new Map<unknown, unknown>(range(0, KEYS).map((k) => [k, 1]));
        for (const keys of changed) for (const k of keys) counts.set(k, 2);
        return counts;
      };
      assert.deepEqual(await countsAt(ids[0] as number), expected([]));
      assert.deepEqual(await countsAt(ids[1] as number), expected([range(0, 2_000)]));
      assert.deepEqual(await countsAt(ids[2] as number), expected([range(0, 2_000), range(5_000, 6_000)]));
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
