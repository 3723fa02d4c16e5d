import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { collectSink, defineJob, type Source } from "@keyflow/functions-sdk";
import { fileSource } from "../../src/connectors/index.js";
import { execute, JobFailedError } from "../../src/index.js";
import { readAll, tempFolder } from "./helpers.js";

interface Reading {
  readonly id: string;
  readonly n: number;
  readonly note: string;
}

const COUNT = 1000;
const readings: Reading[] = Array.from({ length: COUNT }, (_, n) => ({
  id: `sensor_${n % 7}`,
  n,
  // Multi-byte characters, so small chunks split them.
  note: n % 5 === 0 ? "héllo ✓ 𝄞" : `plain ${n}`,
}));

/** What reader s of p emits: records s, s+p, … in file order; the job's result lists shard 0's first. */
function inShardOrder<T>(records: readonly T[], parallelism: number): T[] {
  const out: T[] = [];
  for (let shard = 0; shard < parallelism; shard++) out.push(...records.filter((_, i) => i % parallelism === shard));
  return out;
}

function jobReading<T>(source: Source<T>) {
  const sink = collectSink<T>("records");
  const job = defineJob("read-file", (env) => {
    env.fromSource(source, "Readings").collect(sink);
  });
  return { job, sink };
}

const folder = await tempFolder();
after(() => folder.remove());

describe("fileSource with NDJSON", () => {
  const path = join(folder.path, "readings.ndjson");
  before(async () => {
    // A blank line and a CRLF line break on the way: neither is a record.
    const lines = readings.map((r) => JSON.stringify(r));
    lines.splice(10, 0, "");
    lines[20] = `${lines[20]}\r`;
    await writeFile(path, `${lines.join("\n")}\n`);
  });

  for (const parallelism of [1, 3]) {
    it(`reads exactly the file's records at parallelism ${parallelism}, each reader its own share in order`, async () => {
      const { job, sink } = jobReading(fileSource<Reading>({ path, format: "ndjson" }));
      const result = await execute(job, { parallelism });
      assert.deepEqual(result.get(sink), inShardOrder(readings, parallelism));
    });
  }

  it("gives the same records when small reads split lines and characters", async () => {
    const small = join(folder.path, "small.ndjson");
    await writeFile(
      small,
      readings.slice(0, 100).map((r) => `${JSON.stringify(r)}\n`),
    );
    for (const chunkSize of [7, 61]) {
      const records = await readAll(fileSource<Reading>({ path: small, format: "ndjson", chunkSize }), 0, 1, 13);
      assert.deepEqual(records, readings.slice(0, 100), `chunk ${chunkSize}`);
    }
  });

  it("applies parse to each line and stamps event time", async () => {
    const sink = collectSink<number>("ns");
    const job = defineJob("parse-ndjson", (env) => {
      env
        .fromSource(
          fileSource({
            path,
            format: "ndjson",
            parse: (value) => (value as Reading).n,
            timestamp: (n) => n * 10,
          }),
        )
        .process<number>({
          processElement(n, ctx, out) {
            assert.equal(ctx.timestamp, n * 10);
            out.collect(n);
          },
        })
        .collect(sink);
    });
    const result = await execute(job, { parallelism: 2 });
    assert.deepEqual(
      result.get(sink).sort((a, b) => a - b),
      readings.map((r) => r.n),
    );
  });

  it("reads a last line without a line break, and an empty file as no records", async () => {
    const noBreak = join(folder.path, "no-break.ndjson");
    await writeFile(noBreak, '{"a":1}\n{"a":2}');
    assert.deepEqual(await readAll(fileSource({ path: noBreak, format: "ndjson" })), [{ a: 1 }, { a: 2 }]);
    const empty = join(folder.path, "empty.ndjson");
    await writeFile(empty, "");
    assert.deepEqual(await readAll(fileSource({ path: empty, format: "ndjson" })), []);
  });
});

describe("fileSource with CSV", () => {
  const path = join(folder.path, "people.csv");
  const text = [
    "id,name,remark",
    '1,"Smith, John","said ""hi"""',
    "2,Ann,plain",
    "",
    '3,"Multi\nline",x',
    '4,"","✓ ok"',
    "5,Bob,",
  ].join("\r\n");
  const rows = [
    { id: "1", name: "Smith, John", remark: 'said "hi"' },
    { id: "2", name: "Ann", remark: "plain" },
    { id: "3", name: "Multi\nline", remark: "x" },
    { id: "4", name: "", remark: "✓ ok" },
    { id: "5", name: "Bob", remark: "" },
  ];
  before(() => writeFile(path, text));

  for (const parallelism of [1, 3]) {
    it(`reads quoted fields and the header into rows at parallelism ${parallelism}`, async () => {
      const { job, sink } = jobReading(fileSource({ path, format: "csv" }));
      const result = await execute(job, { parallelism });
      assert.deepEqual(result.get(sink), inShardOrder(rows, parallelism));
    });
  }

  it("reads the same rows whatever the chunk size", async () => {
    for (const chunkSize of [1, 2, 3, 5, 8]) {
      assert.deepEqual(await readAll(fileSource({ path, format: "csv", chunkSize })), rows, `chunk ${chunkSize}`);
    }
  });

  it("parses rows into typed records", async () => {
    const records = await readAll(
      fileSource({ path, format: "csv", parse: (row) => ({ id: Number(row.id), name: row.name }) }),
    );
    assert.deepEqual(
      records,
      rows.map((r) => ({ id: Number(r.id), name: r.name })),
    );
  });

  it("names columns without a header, and splits on another delimiter", async () => {
    const semicolons = join(folder.path, "plain.csv");
    await writeFile(semicolons, 'a;"b;c"\nd;e\n');
    const named = await readAll(
      fileSource({ path: semicolons, format: "csv", csv: { header: false, delimiter: ";", columns: ["x", "y"] } }),
    );
    assert.deepEqual(named, [
      { x: "a", y: "b;c" },
      { x: "d", y: "e" },
    ]);
    const positional = await readAll(
      fileSource({ path: semicolons, format: "csv", csv: { header: false, delimiter: ";" }, parse: (_row, f) => f }),
    );
    assert.deepEqual(positional, [
      ["a", "b;c"],
      ["d", "e"],
    ]);
  });

  it("renames the header's columns with `columns`", async () => {
    const records = await readAll(
      fileSource({ path, format: "csv", csv: { columns: ["key", "who", "what"] }, parse: (row) => row.who }),
    );
    assert.deepEqual(
      records,
      rows.map((r) => r.name),
    );
  });
});

describe("fileSource on bad input", () => {
  /** The job's failure, checked to name the source operator; returns its message. */
  async function failureOf(source: Source<unknown>, parallelism: number): Promise<string> {
    const { job } = jobReading(source);
    let message = "";
    await assert.rejects(execute(job, { parallelism }), (error: unknown) => {
      assert.ok(error instanceof JobFailedError);
      assert.equal(error.reason.code, "USER_FUNCTION_FAILED");
      assert.equal(error.reason.details.operator, "Readings");
      message = error.message;
      return true;
    });
    return message;
  }

  for (const parallelism of [1, 3]) {
    it(`fails the job naming the file, line and text of a malformed JSON line at parallelism ${parallelism}`, async () => {
      const path = join(folder.path, "bad.ndjson");
      await writeFile(path, '{"a":1}\n{"a":2}\n\n{"a":3\n{"a":4}\n');
      const message = await failureOf(fileSource({ path, format: "ndjson" }), parallelism);
      assert.match(message, /invalid JSON/);
      assert.ok(message.includes(`${path}:4:`), message);
      assert.ok(message.includes('"{\\"a\\":3"'), message);
    });
  }

  it("fails the job on a CSV line with the wrong number of fields", async () => {
    const path = join(folder.path, "short.csv");
    await writeFile(path, "id,temperature\nsensor_1,65.1\nsensor_2\nsensor_3,66\n");
    const message = await failureOf(fileSource({ path, format: "csv" }), 2);
    assert.ok(message.includes(`${path}:3: expected 2 fields, got 1: "sensor_2"`), message);
  });

  it("fails the job on an unterminated quote, naming the line where the record starts", async () => {
    const path = join(folder.path, "open-quote.csv");
    await writeFile(path, 'id,name\n1,ok\n2,"never closed\n3,x\n');
    const message = await failureOf(fileSource({ path, format: "csv" }), 1);
    assert.ok(message.includes(`${path}:3: unterminated quoted field`), message);
  });

  it("fails the job when parse throws, keeping its message", async () => {
    const path = join(folder.path, "numbers.csv");
    await writeFile(path, "n\n1\n2\nthree\n");
    const source = fileSource({
      path,
      format: "csv",
      parse: (row) => {
        const n = Number(row.n);
        if (Number.isNaN(n)) throw new TypeError(`not a number: ${row.n}`);
        return n;
      },
    });
    const message = await failureOf(source, 1);
    assert.ok(message.includes(`${path}:4: parse failed (not a number: three): "three"`), message);
  });

  it("rejects a reader's poll with FILE_RECORD_MALFORMED carrying file and line", async () => {
    const path = join(folder.path, "bad-reader.ndjson");
    await writeFile(path, "[1]\nnope\n");
    await assert.rejects(readAll(fileSource({ path, format: "ndjson" })), {
      code: "FILE_RECORD_MALFORMED",
      path,
      line: 2,
    });
  });

  it("fails with FILE_NOT_FOUND naming the path of a missing file", async () => {
    const path = join(folder.path, "missing.ndjson");
    await assert.rejects(readAll(fileSource({ path, format: "ndjson" })), { code: "FILE_NOT_FOUND", path });
    const message = await failureOf(fileSource({ path, format: "ndjson" }), 2);
    assert.ok(message.includes(`file not found: ${path}`), message);
  });

  it("refuses a delimiter that CSV cannot use", () => {
    assert.throws(() => fileSource({ path: "x.csv", format: "csv", csv: { delimiter: '"' } }), RangeError);
    assert.throws(() => fileSource({ path: "x.csv", format: "csv", csv: { delimiter: "" } }), RangeError);
  });
});
