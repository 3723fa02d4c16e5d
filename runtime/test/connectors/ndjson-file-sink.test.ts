import assert from "node:assert/strict";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { defineJob } from "@keyflow/functions-sdk";
import { fileSource, ndjsonFileSink, shardFilePath } from "../../src/connectors/index.js";
import { execute, JobFailedError } from "../../src/index.js";
import { tempFolder } from "./helpers.js";

interface Trade {
  readonly id: number;
  readonly symbol: string;
  readonly price: number;
}

const trades: Trade[] = Array.from({ length: 2500 }, (_, id) => ({
  id,
  symbol: ["ACME", "INIT", 'Ünïcode, "quoted"'][id % 3] as string,
  price: Math.round(id * 37.5) / 100,
}));

const folder = await tempFolder();
after(() => folder.remove());

/** Every record of every shard file of a sink path, shard 0's first. */
async function readShardFiles(path: string, parallelism: number): Promise<unknown[]> {
  const records: unknown[] = [];
  for (let shard = 0; shard < parallelism; shard++) {
    const text = await readFile(shardFilePath(path, shard, parallelism), "utf8");
    assert.ok(text === "" || text.endsWith("\n"), "every line ends with a line break");
    for (const line of text.split("\n")) if (line !== "") records.push(JSON.parse(line));
  }
  return records;
}

const byId = (a: unknown, b: unknown) => (a as Trade).id - (b as Trade).id;

describe("shardFilePath", () => {
  it("keeps the path at parallelism 1, inserts the shard before the extension, or fills {shard}", () => {
    assert.equal(shardFilePath("out/t.ndjson", 0, 1), "out/t.ndjson");
    assert.equal(shardFilePath("out/t.ndjson", 2, 3), "out/t.2.ndjson");
    assert.equal(shardFilePath("out.d/t", 1, 2), "out.d/t.1");
    assert.equal(shardFilePath("out/t-{shard}.json", 0, 1), "out/t-0.json");
    assert.equal(shardFilePath("out/{shard}/t.json", 4, 5), "out/4/t.json");
  });
});

describe("ndjsonFileSink", () => {
  for (const parallelism of [1, 3]) {
    it(`writes exactly the records, one file per shard, at parallelism ${parallelism}`, async () => {
      const path = join(folder.path, `p${parallelism}`, "nested", "trades.ndjson");
      const job = defineJob("write-trades", (env) => {
        env
          .fromCollection(trades)
          .rebalance()
          .map((t) => t)
          .sinkTo(ndjsonFileSink<Trade>({ path, bufferSize: 1000 }));
      });
      await execute(job, { parallelism });
      const names = await readdir(join(folder.path, `p${parallelism}`, "nested"));
      assert.equal(names.length, parallelism);
      assert.deepEqual((await readShardFiles(path, parallelism)).sort(byId), trades);
    });
  }

  it("keeps order within a shard across many background writes", async () => {
    const path = join(folder.path, "ordered", "trades.ndjson");
    const job = defineJob("write-ordered", (env) => {
      env.fromCollection(trades).sinkTo(ndjsonFileSink<Trade>({ path, bufferSize: 64 }));
    });
    await execute(job, { parallelism: 1 });
    assert.deepEqual(await readShardFiles(path, 1), trades);
  });

  it("replaces an existing file and leaves an empty file for a shard without records", async () => {
    const path = join(folder.path, "few", "out-{shard}.ndjson");
    const job = defineJob("write-few", (env) => {
      env
        .fromCollection([{ id: 1 }])
        .global()
        .sinkTo(ndjsonFileSink<{ id: number }>({ path }))
        .setParallelism(2);
    });
    await execute(job);
    await writeFile(shardFilePath(path, 0, 2), "stale\nstale\nstale\n");
    await execute(job);
    assert.equal(await readFile(shardFilePath(path, 0, 2), "utf8"), '{"id":1}\n');
    assert.equal(await readFile(shardFilePath(path, 1, 2), "utf8"), "");
  });

  it("fails the job naming the file when a record has no JSON form", async () => {
    const path = join(folder.path, "bigint.ndjson");
    const job = defineJob("write-bigint", (env) => {
      env.fromCollection([{ n: 1n }]).sinkTo(ndjsonFileSink<{ n: bigint }>({ path }));
    });
    await assert.rejects(execute(job), (error: unknown) => {
      assert.ok(error instanceof JobFailedError);
      assert.ok(error.message.includes(`${path}: cannot write record as JSON`), error.message);
      return true;
    });
  });

  it("fails the job naming the file when its folder cannot be made", async () => {
    await writeFile(join(folder.path, "blocker"), "a file where a folder is needed");
    const job = defineJob("write-into-file", (env) => {
      env
        .fromCollection([{ id: 1 }])
        .sinkTo(ndjsonFileSink<{ id: number }>({ path: join(folder.path, "blocker", "out.ndjson") }));
    });
    await assert.rejects(execute(job), (error: unknown) => {
      assert.ok(error instanceof JobFailedError);
      assert.match(error.message, /blocker\/out\.ndjson failed/);
      return true;
    });
  });
});

describe("file -> job -> file", () => {
  for (const parallelism of [1, 3]) {
    it(`keeps every record at parallelism ${parallelism}`, async () => {
      const input = join(folder.path, `round-trip-${parallelism}.ndjson`);
      const output = join(folder.path, `round-trip-${parallelism}`, "out.ndjson");
      await writeFile(input, trades.map((t) => `${JSON.stringify(t)}\n`).join(""));
      const job = defineJob("round-trip", (env) => {
        env
          .fromSource(fileSource<Trade>({ path: input, format: "ndjson" }), "Trades")
          .keyBy((t) => t.symbol)
          .map((t) => ({ ...t, price: t.price * 2 }))
          .sinkTo(ndjsonFileSink({ path: output }));
      });
      await execute(job, { parallelism });
      assert.deepEqual(
        (await readShardFiles(output, parallelism)).sort(byId),
        trades.map((t) => ({ ...t, price: t.price * 2 })),
      );
    });
  }
});
