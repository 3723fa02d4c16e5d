import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defineJob, type RuntimeContext } from "@keyflow/functions-sdk";
import type { ShardCheckpointing, ShardSnapshotReport } from "../../src/checkpoint/shard-checkpointing.js";
import { ResultBuffer } from "../../src/embedded/job-result.js";
import { ShardHost } from "../../src/node/shard-host.js";
import { systemClock } from "../../src/time/clock.js";

const COUNT = 60_000;

/** What each keyed shard has processed so far, by shard index (all shards run on this thread). */
const processed = new Map<number, string[]>();

const job = defineJob("aligned barriers", (env) => {
  const a = env.generate({ count: COUNT, make: (i) => `a-${i}` }, "a").setParallelism(2);
  const b = env.generate({ count: COUNT, make: (i) => `b-${i}` }, "b").setParallelism(3);
  a.union(b)
    .keyBy((id) => id.length % 7)
    .process(
      new (class {
        private seen: string[] = [];
        open(context: RuntimeContext) {
          this.seen = [];
          processed.set(context.shardIndex, this.seen);
        }
        processElement(id: string) {
          this.seen.push(id);
        }
      })(),
    )
    .name("Keyed")
    .setParallelism(2)
    .discard()
    .setParallelism(2); // chained to Keyed
});

interface GeneratorPosition {
  readonly first: number;
  readonly step: number;
  readonly next: number;
}

/** The records a generator split emitted before its position: first, first + step, … below next. */
function emittedBefore(prefix: string, position: GeneratorPosition): string[] {
  const ids: string[] = [];
  for (let i = position.first; i < position.next; i += position.step) ids.push(`${prefix}-${i}`);
  return ids;
}

describe("aligned checkpoint barriers", () => {
  it("cut every shard at the same point: what keyed shards processed before their snapshot is exactly what sources emitted before their barrier", async () => {
    const reports: ShardSnapshotReport[] = [];
    const seenAtSnapshot = new Map<string, string[]>();
    const checkpointing: ShardCheckpointing = {
      onSnapshot(report) {
        reports.push(report);
        if (!report.snapshots.some((snapshot) => "source-splits" in snapshot.operatorState)) {
          // A keyed shard: what it processed up to its barrier.
          seenAtSnapshot.set(`${report.checkpointId}/${report.shardIndex}`, [
            ...(processed.get(report.shardIndex) ?? []),
          ]);
        }
      },
      onAbandoned: () => assert.fail("no checkpoint is overtaken here"),
      restoreFor: () => undefined,
      restoredSplits: () => undefined,
    };
    const host = new ShardHost({
      job,
      planOptions: {},
      location: { node: 0, thread: 0 },
      nodes: 1,
      threadsPerNode: 1,
      clock: systemClock,
      results: new ResultBuffer(),
      batchSize: 50,
      bufferTimeoutMs: 1,
      credit: 2,
      checkpointing,
    });
    const run = host.run();
    const triggered: number[] = [];
    for (let id = 1; id <= 4; id++) {
      await new Promise((resolve) => setTimeout(resolve, 3));
      if (host.triggerCheckpoint(id, Date.now(), false)) triggered.push(id);
    }
    assert.equal((await run).kind, "finished");
    assert.ok(triggered.length >= 2, `checkpoints were taken while the sources ran (${triggered})`);

    for (const id of triggered) {
      const ofCheckpoint = reports.filter((r) => r.checkpointId === id);
      // 2 + 3 source shards report split positions; 2 keyed shards report their cut.
      assert.equal(
        ofCheckpoint.length,
        7,
        `checkpoint ${id}: every shard reported ${JSON.stringify(ofCheckpoint.map((r) => [r.vertexId, r.shardIndex, r.snapshots.length]))}`,
      );
      const emitted: string[] = [];
      for (const report of ofCheckpoint) {
        for (const snapshot of report.snapshots) {
          const splits = snapshot.operatorState["source-splits"]?.items as GeneratorPosition[] | undefined;
          if (splits === undefined) continue;
          const prefix = snapshot.uid === "source-0" ? "a" : "b";
          for (const split of splits) emitted.push(...emittedBefore(prefix, split));
        }
      }
      const seen = [0, 1].flatMap((shard) => seenAtSnapshot.get(`${id}/${shard}`) ?? []);
      assert.ok(emitted.length > 0 && emitted.length < 2 * COUNT, `checkpoint ${id} cut the stream mid-way`);
      assert.deepEqual([...seen].sort(), [...emitted].sort(), `checkpoint ${id}: a consistent cut`);
    }
  });
});
