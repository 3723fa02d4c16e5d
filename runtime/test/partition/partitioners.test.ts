import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  collectSink,
  type DataStream,
  defineJob,
  type MapFunction,
  type RuntimeContext,
  type Source,
} from "@keyflow/functions-sdk";
import { execute, JobFailedError, shardOfKey } from "../../src/index.js";

/** A record and the source shard that emitted it. */
interface Sent {
  readonly n: number;
  readonly from: number;
}
/** A record as a target shard received it. */
interface Received extends Sent {
  readonly to: number;
}

/** Records 0..count-1, split over the source's shards by index, each tagged with the shard that emitted it. */
function taggedSource(count: number): Source<Sent> {
  return {
    createReader(context) {
      let n = context.shardIndex;
      return {
        poll(out, max) {
          for (let i = 0; i < max && n < count; i++, n += context.parallelism)
            out.collect({ n, from: context.shardIndex });
          return n < count ? "more" : "end";
        },
      };
    },
  };
}

/** A map that tags each record with the shard it runs in (learned in `open`). */
function tagTarget(): MapFunction<Sent, Received> {
  let shard = -1;
  return {
    open(context: RuntimeContext) {
      shard = context.shardIndex;
    },
    map: (record: Sent) => ({ ...record, to: shard }),
  };
}

const received = collectSink<Received>("received");

async function route(
  count: number,
  sources: number,
  targets: number,
  partition: (stream: DataStream<Sent>) => DataStream<Sent>,
): Promise<Received[]> {
  const job = defineJob("route", (env) => {
    partition(env.fromSource(taggedSource(count)).setParallelism(sources))
      .map(tagTarget())
      .name("Target")
      .setParallelism(targets)
      .collect(received);
  });
  const result = await execute(job, { batchSize: 16 });
  return result.get(received);
}

function countBy<T>(items: readonly T[], key: (item: T) => number): Map<number, number> {
  const counts = new Map<number, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

const sortedNs = (records: readonly Received[]) => records.map((r) => r.n).sort((a, b) => a - b);
const range = (count: number) => Array.from({ length: count }, (_, i) => i);

describe("partitioners end to end", () => {
  it("forward keeps every record on the shard with the same index", async () => {
    const records = await route(3000, 3, 3, (s) => s.forward());
    assert.deepEqual(sortedNs(records), range(3000));
    assert.ok(records.every((r) => r.to === r.from));
  });

  it("rebalance spreads one producer's records evenly over every target shard", async () => {
    const records = await route(4000, 1, 4, (s) => s.rebalance());
    assert.deepEqual(sortedNs(records), range(4000));
    assert.deepEqual([...countBy(records, (r) => r.to).entries()].sort(), [
      [0, 1000],
      [1, 1000],
      [2, 1000],
      [3, 1000],
    ]);
  });

  it("rebalance spreads several producers evenly too", async () => {
    const records = await route(3001, 2, 3, (s) => s.rebalance());
    assert.deepEqual(sortedNs(records), range(3001));
    for (const [, count] of countBy(records, (r) => r.to)) assert.ok(Math.abs(count - 1000) <= 2, `${count}`);
  });

  it("rescale sends each producer's records round-robin to its own group of target shards", async () => {
    const records = await route(4000, 2, 4, (s) => s.rescale());
    assert.deepEqual(sortedNs(records), range(4000));
    for (const r of records) assert.ok(r.from === 0 ? r.to <= 1 : r.to >= 2, `${r.from} -> ${r.to}`);
    assert.deepEqual([...countBy(records, (r) => r.to).values()], [1000, 1000, 1000, 1000]);
  });

  it("rescale from more producers to fewer targets joins producers in groups", async () => {
    const records = await route(4000, 4, 2, (s) => s.rescale());
    for (const r of records) assert.equal(r.to, r.from < 2 ? 0 : 1);
  });

  it("shuffle delivers every record once, to every target shard, the same way on every run", async () => {
    const first = await route(4000, 2, 4, (s) => s.shuffle());
    assert.deepEqual(sortedNs(first), range(4000));
    const counts = countBy(first, (r) => r.to);
    assert.equal(counts.size, 4);
    for (const [, count] of counts) assert.ok(count > 700 && count < 1300, `a target got ${count} of 4000`);
    const second = await route(4000, 2, 4, (s) => s.shuffle());
    const where = (records: Received[]) =>
      records.map((r) => [r.n, r.to]).sort((a, b) => (a[0] as number) - (b[0] as number));
    assert.deepEqual(where(second), where(first));
  });

  it("broadcast gives every target shard every record", async () => {
    const records = await route(500, 2, 3, (s) => s.broadcast());
    assert.equal(records.length, 1500);
    for (let to = 0; to < 3; to++) {
      assert.deepEqual(sortedNs(records.filter((r) => r.to === to)), range(500), `shard ${to}`);
    }
  });

  it("global sends everything to target shard 0", async () => {
    const records = await route(1000, 3, 4, (s) => s.global());
    assert.deepEqual(sortedNs(records), range(1000));
    assert.ok(records.every((r) => r.to === 0));
  });

  it("hash sends each key to the shard its key group belongs to", async () => {
    const maxParallelism = 128;
    const records = await route(2000, 2, 3, (s) => s.keyBy((r) => `k${r.n % 37}`));
    assert.deepEqual(sortedNs(records), range(2000));
    for (const r of records) assert.equal(r.to, shardOfKey(`k${r.n % 37}`, maxParallelism, 3));
  });

  it("custom sends each record to the shard the partitioner chose", async () => {
    const records = await route(1000, 2, 4, (s) =>
      s.partitionCustom(
        (key: number, n) => (key * 7) % n,
        (r) => r.n,
      ),
    );
    assert.deepEqual(sortedNs(records), range(1000));
    for (const r of records) assert.equal(r.to, (r.n * 7) % 4);
  });

  it("fails the job with PARTITION_OUT_OF_RANGE naming the operator when a custom partitioner answers out of range", async () => {
    for (const answer of [4, -1, 1.5, Number.NaN]) {
      await assert.rejects(
        route(100, 1, 4, (s) =>
          s.partitionCustom(
            (key: number) => (key === 42 ? answer : 0),
            (r) => r.n,
          ),
        ),
        (error: unknown) => {
          assert.ok(error instanceof JobFailedError, String(error));
          assert.equal(error.reason.code, "PARTITION_OUT_OF_RANGE", error.reason.message);
          assert.equal(error.reason.details.operator, "Target");
          assert.match(error.reason.message, /returned .* for record \{"n":42,"from":0\}/);
          return true;
        },
      );
    }
  });

  it("fails with PARTITION_OUT_OF_RANGE also when the record comes out of a chained flatMap", async () => {
    const job = defineJob("route-after-flatmap", (env) => {
      env
        .fromCollection([1, 2, 3])
        .flatMap<number>((x, out) => out.collect(x))
        .partitionCustom(
          () => 9,
          (x) => x,
        )
        .map((x) => x)
        .name("Target")
        .setParallelism(2)
        .discard();
    });
    await assert.rejects(execute(job), (error: unknown) => {
      assert.ok(error instanceof JobFailedError);
      assert.equal(error.reason.code, "PARTITION_OUT_OF_RANGE", error.reason.message);
      assert.equal(error.reason.details.operator, "Target");
      return true;
    });
  });
});
