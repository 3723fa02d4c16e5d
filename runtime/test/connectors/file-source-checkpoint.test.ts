import assert from "node:assert/strict";
import { appendFileSync } from "node:fs";
import { appendFile, mkdtemp, rm, stat, truncate, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  collectSink,
  defineJob,
  type Source,
  type SourceReader,
  type SourceReaderContext,
} from "@keyflow/functions-sdk";
import fc from "fast-check";
import { SOURCE_SPLITS_STATE } from "../../src/checkpoint/shard-checkpointing.js";
import { decodeStoreRecord, encodeStoreRecord } from "../../src/codec/store-codec.js";
import { FileChangedError, fileSource } from "../../src/connectors/index.js";
import { execute, JobFailedError, MemoryCheckpointStorage } from "../../src/index.js";
import { CheckpointStore } from "../../src/state/store/checkpoint-store.js";
import { distributeOperatorState } from "../../src/state/store/operator-state.js";
import { tempFolder } from "./helpers.js";

const folder = await tempFolder();
after(() => folder.remove());
let files = 0;
const freshPath = (ext: string) => join(folder.path, `file-${files++}.${ext}`);

function context(shardIndex: number, parallelism: number, restoredSplits?: readonly unknown[]): SourceReaderContext {
  return {
    operatorName: "Test",
    shardIndex,
    parallelism,
    now: () => 0,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    ...(restoredSplits === undefined ? {} : { restoredSplits }),
  };
}

/** When a reader stops before its end: after so many polls, or once it emitted so many records. */
interface Stop {
  readonly polls?: number;
  readonly records?: number;
}
const TO_THE_END: Stop = {};

/**
 * Polls `reader` until `stop` (or its end), `max` records a poll, into `into`; snapshots its
 * splits while a read may still be in flight, as a barrier between polls would; then waits for
 * that read and closes the reader.
 */
async function runThenSnapshot<T>(
  reader: SourceReader<T>,
  into: T[],
  stop: Stop,
  max: number,
): Promise<{ ended: boolean; splits: unknown[] }> {
  let pending: Promise<unknown> | undefined;
  let ended = false;
  const start = into.length;
  try {
    for (let n = 0; ; n++) {
      if (stop.polls !== undefined && n >= stop.polls) break;
      if (stop.records !== undefined && into.length - start >= stop.records) break;
      if (pending !== undefined) await pending;
      pending = undefined;
      const before = into.length;
      const result = reader.poll({ collect: (value) => into.push(value) }, max);
      assert.ok(into.length - before <= max, "a poll emits at most max records");
      if (result === "end") {
        ended = true;
        break;
      }
      if (result !== "more") pending = result;
    }
    const splits = reader.snapshotSplits?.() ?? assert.fail("the file source reader has no snapshotSplits");
    return { ended, splits: throughStore(splits) };
  } finally {
    await pending;
    await reader.close?.();
  }
}

/** Positions as the LevelDB store writes and reads them (msgpack): proves them plain data. */
function throughStore(items: unknown[]): unknown[] {
  return decodeStoreRecord(encodeStoreRecord(items)) as unknown[];
}

/** How the checkpoint store deals "split" list state of `perShard.length` old shards to `parallelism` new ones. */
function dealAsStore(perShard: readonly (readonly unknown[])[], parallelism: number): unknown[][] {
  const manifests = perShard.map((items, shardIndex) => ({
    uid: "file",
    shardIndex,
    mode: "full" as const,
    keyGroups: { start: 0, end: 0 },
    operatorState: { [SOURCE_SPLITS_STATE]: { distribution: "split" as const, items } },
    entries: 0,
    bytes: 0,
    blocks: 0,
  }));
  return Array.from(
    { length: parallelism },
    (_, i) => distributeOperatorState(1, "file", manifests, i, parallelism)[SOURCE_SPLITS_STATE] ?? [],
  );
}

/** How MemoryCheckpointStorage deals them: round-robin over the concatenated items. */
function dealRoundRobin(perShard: readonly (readonly unknown[])[], parallelism: number): unknown[][] {
  const all = perShard.flat();
  return Array.from({ length: parallelism }, (_, i) => all.filter((_item, j) => j % parallelism === i));
}

/** Lone surrogates would not survive the file's UTF-8: replace them as the encoder would. */
function wellFormed(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD");
}

interface Row {
  readonly id: string;
  readonly text: string;
}

/** CSV rows with what breaks naive readers: quotes, delimiters, line breaks in fields, multi-byte characters. */
const tricky: Row[] = [
  { id: "0", text: "plain" },
  { id: "1", text: 'say "hi", then\nleave' },
  { id: "2", text: "héllo ✓ 𝄞 naïve" },
  { id: "3", text: "" },
  { id: "4", text: "two\r\nlines in CRLF" },
  { id: "5", text: "ends with a break\n" },
  { id: "6", text: "𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞" },
  { id: "7", text: '""' },
  { id: "8", text: "last" },
];

function csvField(text: string): string {
  return /[",\r\n]/.test(text) || text.length === 0 ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A CSV file of `rows` with a header, a BOM, mixed LF and CRLF breaks, and blank lines between. */
function trickyCsv(rows: readonly Row[]): string {
  const lines = ["\uFEFFid,text", ...rows.map((r) => `${csvField(r.id)},${csvField(r.text)}`)];
  let out = "";
  lines.forEach((line, i) => {
    out += line + (i % 2 === 0 ? "\r\n" : "\n");
    if (i % 3 === 1) out += "\n";
    if (i % 4 === 2) out += "\r\n";
  });
  return out;
}

/** An NDJSON file of `rows` with blank and whitespace-only lines and CRLF breaks on the way, no final break. */
function trickyNdjson(rows: readonly Row[]): string {
  return rows
    .map((r, i) => JSON.stringify(r) + (i % 3 === 0 ? "\r\n" : "\n") + (i % 4 === 1 ? "  \t\n\n" : ""))
    .join("")
    .trimEnd();
}

describe("fileSource positions: one reader stops, a new one resumes from its snapshot", () => {
  const cases = [
    { format: "csv" as const, write: trickyCsv },
    { format: "ndjson" as const, write: trickyNdjson },
  ];
  for (const { format, write } of cases) {
    it(`${format}: at every record, with 7-byte reads, the two readers emit each record exactly once`, async () => {
      const path = freshPath(format);
      await writeFile(path, write(tricky));
      const source = (fileSource as (o: object) => Source<Row>)({ path, format, chunkSize: 7 });
      for (let stopAt = 0; stopAt <= tricky.length; stopAt++) {
        const first: Row[] = [];
        const { splits } = await runThenSnapshot(source.createReader(context(0, 1)), first, { records: stopAt }, 1);
        assert.deepEqual(first, tricky.slice(0, stopAt), `before the snapshot at ${stopAt}`);
        const rest: Row[] = [];
        const { ended } = await runThenSnapshot(source.createReader(context(0, 1, splits)), rest, TO_THE_END, 3);
        assert.ok(ended);
        assert.deepEqual([...first, ...rest], tricky, `resumed at record ${stopAt}`);
      }
    });
  }

  it("records the offset after the last record handed on, not after what the chunk read ahead", async () => {
    const path = freshPath("ndjson");
    const lines = ['{"n":"é"}', '{"n":2}', '{"n":3}'];
    await writeFile(path, `${lines.join("\n")}\n`);
    const reader = fileSource({ path, format: "ndjson" }).createReader(context(0, 1));
    const { splits } = await runThenSnapshot(reader, [], { records: 1 }, 1);
    const [position] = splits as { offset: number; record: number; line: number }[];
    // The whole file is in the first 64 KiB chunk; one record was handed on.
    assert.equal(position?.offset, Buffer.byteLength(`${lines[0]}\n`));
    assert.equal(position?.record, 1);
    assert.equal(position?.line, 2);
    assert.equal((splits[0] as { size: number }).size, (await stat(path)).size);
  });

  it("names the right line of a malformed record met after a restore", async () => {
    const path = freshPath("ndjson");
    await writeFile(path, '{"n":1}\n\n"multi\\nline"\n{"n":2}\nnot json\n');
    const source = fileSource({ path, format: "ndjson", chunkSize: 5 });
    const { splits } = await runThenSnapshot(source.createReader(context(0, 1)), [], { records: 2 }, 1);
    await assert.rejects(
      runThenSnapshot(source.createReader(context(0, 1, splits)), [], TO_THE_END, 1),
      (error: Error & { code?: string }) =>
        error.code === "FILE_RECORD_MALFORMED" && /:5: invalid JSON/.test(error.message),
    );
  });

  it("property: any file, any chunk size, any run of snapshots and restores gives every record once, in order", async () => {
    const text = fc.string({ unit: "binary", maxLength: 12 }).map(wellFormed);
    const file = fc.record({
      format: fc.constantFrom("csv" as const, "ndjson" as const),
      texts: fc.array(fc.oneof(text, fc.constantFrom('"', "\n", "\r\n", ",", "a\r", '""\n""', "𝄞")), {
        maxLength: 25,
      }),
      breaks: fc.array(fc.constantFrom("\n", "\r\n"), { minLength: 26, maxLength: 26 }),
      blanks: fc.array(fc.boolean(), { minLength: 26, maxLength: 26 }),
      bom: fc.boolean(),
      finalBreak: fc.boolean(),
      chunkSize: fc.integer({ min: 1, max: 40 }),
      stops: fc.array(fc.record({ polls: fc.nat(6), max: fc.integer({ min: 1, max: 4 }) }), { maxLength: 6 }),
    });
    await fc.assert(
      fc.asyncProperty(file, async ({ format, texts, breaks, blanks, bom, finalBreak, chunkSize, stops }) => {
        const rows: Row[] = texts.map((t, i) => ({ id: String(i), text: t }));
        const lines =
          format === "csv"
            ? ["id,text", ...rows.map((r) => `${r.id},${csvField(r.text)}`)]
            : rows.map((r) => JSON.stringify(r));
        let content = bom ? "\uFEFF" : "";
        lines.forEach((line, i) => {
          content += line;
          if (i < lines.length - 1 || finalBreak) content += breaks[i];
          if (blanks[i] && i < lines.length - 1) content += breaks[i + 1];
        });
        const path = freshPath(format);
        await writeFile(path, content);
        const source = (fileSource as (o: object) => Source<Row>)({ path, format, chunkSize });
        const seen: Row[] = [];
        let splits: unknown[] | undefined;
        for (const { polls, max } of stops) {
          const run = await runThenSnapshot(source.createReader(context(0, 1, splits)), seen, { polls }, max);
          splits = run.splits;
        }
        await runThenSnapshot(source.createReader(context(0, 1, splits)), seen, TO_THE_END, 5);
        assert.deepEqual(seen, rows);
        await rm(path);
      }),
      { numRuns: 150 },
    );
  });
});

describe("fileSource positions across rescaling", () => {
  const COUNT = 200;
  const rows: Row[] = Array.from({ length: COUNT }, (_, i) => ({
    id: String(i),
    text: i % 9 === 0 ? 'ü,\n"x"' : `r${i}`,
  }));

  /** Runs generation after generation: each reader runs until its stop, then all snapshot and are dealt to the next. */
  async function generations(
    path: string,
    parallelisms: readonly number[],
    stopOf: (generation: number, shard: number) => Stop,
    deal: (perShard: readonly (readonly unknown[])[], parallelism: number) => unknown[][],
  ): Promise<Row[]> {
    const source = fileSource({ path, format: "csv", chunkSize: 11 }) as Source<Row>;
    const seen: Row[] = [];
    let dealt: unknown[][] | undefined;
    for (const [generation, parallelism] of parallelisms.entries()) {
      const perShard: unknown[][] = [];
      for (let shard = 0; shard < parallelism; shard++) {
        const reader = source.createReader(context(shard, parallelism, dealt?.[shard]));
        const { splits } = await runThenSnapshot(reader, seen, stopOf(generation, shard), 2);
        perShard.push(splits);
      }
      const next = parallelisms[generation + 1];
      if (next !== undefined) dealt = deal(perShard, next);
    }
    return seen;
  }

  const byId = (a: Row, b: Row) => Number(a.id) - Number(b.id);

  for (const [name, deal] of [
    ["the checkpoint store's contiguous slices", dealAsStore],
    ["the memory storage's round-robin", dealRoundRobin],
  ] as const) {
    for (const chain of [
      [1, 3, 2],
      [2, 3, 1],
    ]) {
      it(`${chain.join(" -> ")} readers, snapshots at different points, dealt as ${name}: every record exactly once`, async () => {
        const path = freshPath("csv");
        await writeFile(path, trickyCsv(rows));
        // Each reader of the first two generations stops at another point; the last reads to the end.
        const seen = await generations(
          path,
          chain,
          (g, s) => (g < chain.length - 1 ? { records: 5 + 13 * s + 17 * g } : TO_THE_END),
          deal,
        );
        assert.deepEqual([...seen].sort(byId), rows);
      });
    }
  }

  it("property: any chain of parallelisms and stopping points gives every record exactly once", async () => {
    const path = freshPath("csv");
    await writeFile(path, trickyCsv(rows));
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(60), { minLength: 16, maxLength: 16 }),
        fc.boolean(),
        async (parallelisms, stopAt, roundRobin) => {
          const seen = await generations(
            path,
            [...parallelisms, 1],
            (g, s) => (g === parallelisms.length ? TO_THE_END : { polls: stopAt[(g * 4 + s) % 16] as number }),
            roundRobin ? dealRoundRobin : dealAsStore,
          );
          assert.deepEqual([...seen].sort(byId), rows);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("keeps a split's shardIndex and parallelism of the first run after a restore at another parallelism", async () => {
    const path = freshPath("csv");
    await writeFile(path, trickyCsv(rows));
    const source = fileSource({ path, format: "csv" });
    const first = await runThenSnapshot(source.createReader(context(1, 2)), [], { records: 2 }, 3);
    const again = await runThenSnapshot(source.createReader(context(0, 3, first.splits)), [], { records: 2 }, 3);
    assert.deepEqual(
      again.splits.map((s) => {
        const { shardIndex, parallelism, path: file, headerRead, columns } = s as Record<string, unknown>;
        return { shardIndex, parallelism, file, headerRead, columns };
      }),
      [{ shardIndex: 1, parallelism: 2, file: path, headerRead: true, columns: ["id", "text"] }],
    );
    // A reader dealt no split has nothing to read.
    const idle = await runThenSnapshot(source.createReader(context(2, 3, [])), [], TO_THE_END, 3);
    assert.deepEqual(idle, { ended: true, splits: [] });
  });
});

describe("fileSource after the file changed since the checkpoint", () => {
  async function snapshotMidFile(path: string, into: unknown[] = []): Promise<unknown[]> {
    await writeFile(path, Array.from({ length: 50 }, (_, i) => `{"n":${i}}\n`).join(""));
    const reader = fileSource({ path, format: "ndjson" }).createReader(context(0, 1));
    const { splits } = await runThenSnapshot(reader, into, { records: 20 }, 10);
    return splits;
  }
  const restore = (path: string, splits: unknown[], into: unknown[] = []) =>
    runThenSnapshot(fileSource({ path, format: "ndjson" }).createReader(context(0, 1, splits)), into, TO_THE_END, 10);
  const offsetOf = (splits: unknown[]) => (splits[0] as { offset: number }).offset;

  function changed(path: string, offset: number, problem: RegExp) {
    return (error: unknown): boolean => {
      assert.ok(error instanceof FileChangedError);
      assert.equal(error.code, "FILE_CHANGED_SINCE_CHECKPOINT");
      assert.equal(error.path, path);
      assert.equal(error.offset, offset);
      assert.ok(error.message.includes(path) && error.message.includes(`byte ${offset}`), error.message);
      assert.match(error.message, problem);
      return true;
    };
  }

  it("fails naming the file and offset when the file is now shorter than the offset", async () => {
    const path = freshPath("ndjson");
    const splits = await snapshotMidFile(path);
    assert.ok(offsetOf(splits) > 100);
    await truncate(path, 100);
    await assert.rejects(restore(path, splits), changed(path, offsetOf(splits), /has 100 bytes now, fewer/));
  });

  it("fails when records were appended (another size)", async () => {
    const path = freshPath("ndjson");
    const splits = await snapshotMidFile(path);
    await appendFile(path, '{"n":50}\n');
    await assert.rejects(restore(path, splits), changed(path, offsetOf(splits), /bytes at the checkpoint/));
  });

  it("fails when the file was rewritten with the same size (another modification time)", async () => {
    const path = freshPath("ndjson");
    const splits = await snapshotMidFile(path);
    const { mtime } = await stat(path);
    await utimes(path, mtime, new Date(mtime.getTime() + 5_000));
    await assert.rejects(restore(path, splits), changed(path, offsetOf(splits), /was modified/));
  });

  it("fails when the position is of another file", async () => {
    const path = freshPath("ndjson");
    const splits = await snapshotMidFile(path);
    const other = freshPath("ndjson");
    await writeFile(other, "{}\n");
    await assert.rejects(restore(other, splits), changed(other, offsetOf(splits), /in another file/));
  });

  it("resumes the unchanged file", async () => {
    const path = freshPath("ndjson");
    const seen: unknown[] = [];
    const splits = await snapshotMidFile(path, seen);
    assert.equal(seen.length, 20);
    await restore(path, splits, seen);
    assert.deepEqual(
      seen,
      Array.from({ length: 50 }, (_, n) => ({ n })),
    );
  });
});

interface Event {
  readonly i: number;
  readonly key: string;
  readonly value: number;
}

describe("a checkpointed job reading a file", () => {
  const COUNT = 100_000;
  const POISON = 80_000;

  function sumsJob(path: string, sink: ReturnType<typeof collectSink<Event>>, poison: { at: number; failed: boolean }) {
    return defineJob("file-sums", (env) => {
      env
        .fromSource(fileSource<Event>({ path, format: "ndjson", chunkSize: 4096 }), "events")
        .uid("events")
        .setParallelism(2)
        .map((e) => {
          if (e.i === poison.at && !poison.failed) {
            poison.failed = true;
            throw new Error(`transient fault at ${e.i}`);
          }
          return e;
        })
        .uid("fail-once")
        .setParallelism(2)
        .keyBy((e) => e.key)
        .sum("value")
        .uid("sums")
        .setParallelism(3)
        .collect(sink);
    });
  }

  /** The final rolling sum per key (sums only grow: values are positive), and how many sums were emitted. */
  function finalSums(values: readonly Event[]): { sums: Record<string, number>; emitted: number } {
    const sums: Record<string, number> = {};
    for (const e of values) sums[e.key] = Math.max(sums[e.key] ?? 0, e.value);
    return { sums, emitted: values.length };
  }

  for (const storageKind of ["memory", "LevelDB"] as const) {
    it(`crashing once at record ${POISON} and restoring from a checkpoint (${storageKind}) ends with the failure-free sums`, async () => {
      const path = freshPath("ndjson");
      const events = Array.from({ length: COUNT }, (_, i) =>
        JSON.stringify({ i, key: `k${(i * 7919) % 23}`, value: (i % 10) + 1 }),
      );
      await writeFile(path, `${events.join("\n")}\n`);

      const freeSink = collectSink<Event>("free");
      const free = await execute(sumsJob(path, freeSink, { at: -1, failed: false }), { workers: 0 });
      const truth = finalSums(free.get(freeSink));
      assert.equal(truth.emitted, COUNT);

      const dir = await mkdtemp(join(tmpdir(), "kf-filesrc-"));
      const storage = storageKind === "memory" ? new MemoryCheckpointStorage() : await CheckpointStore.open(dir);
      try {
        const sink = collectSink<Event>("sums");
        const poison = { at: POISON, failed: false };
        const log: string[] = [];
        const result = await execute(sumsJob(path, sink, poison), {
          workers: 0,
          batchSize: 100,
          checkpoints: { intervalMs: 2, storage },
          restartStrategy: { kind: "fixedDelay", attempts: 2, delayMs: 0 },
          log: (line) => log.push(line),
        });
        assert.ok(poison.failed, "the job did crash");
        const restarts = log.filter((line) => line.startsWith("job failed"));
        assert.equal(restarts.length, 1, log.join("\n"));
        // From a checkpoint, not from the beginning: the sources resumed mid-file.
        assert.match(restarts[0] ?? "", new RegExp(`transient fault at ${POISON}.*from checkpoint \\d+`));
        assert.deepEqual(finalSums(result.get(sink)), truth);
      } finally {
        if (storage instanceof CheckpointStore) await storage.close();
        await rm(dir, { recursive: true, force: true });
      }
    });
  }

  it("fails with FILE_CHANGED_SINCE_CHECKPOINT when the file changed before the restart", async () => {
    const path = freshPath("ndjson");
    await writeFile(
      path,
      Array.from({ length: COUNT }, (_, i) => JSON.stringify({ i, key: "k", value: 1 })).join("\n"),
    );
    const sink = collectSink<Event>("sums");
    const poison = { at: POISON, failed: false };
    const job = defineJob("file-changes", (env) => {
      env
        .fromSource(fileSource<Event>({ path, format: "ndjson", chunkSize: 4096 }), "events")
        .uid("events")
        .map((e) => {
          if (e.i === poison.at && !poison.failed) {
            poison.failed = true;
            // The file is replaced while the job restarts.
            appendFileSync(path, "\n{}");
            throw new Error(`transient fault at ${e.i}`);
          }
          return e;
        })
        .keyBy((e) => e.key)
        .sum("value")
        .collect(sink);
    });
    await assert.rejects(
      execute(job, {
        workers: 0,
        batchSize: 100,
        checkpoints: { intervalMs: 2, storage: new MemoryCheckpointStorage() },
        restartStrategy: { kind: "fixedDelay", attempts: 2, delayMs: 20 },
      }),
      (error: unknown) => {
        assert.ok(error instanceof JobFailedError, String(error));
        assert.match(error.message, /cannot resume at byte \d+: the file had \d+ bytes at the checkpoint/);
        assert.ok(error.message.includes(path), error.message);
        return true;
      },
    );
  });
});
