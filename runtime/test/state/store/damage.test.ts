import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdir, readdir, rm, stat, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Worker } from "node:worker_threads";
import { encodeStoreRecord } from "../../../src/codec/store-codec.js";
import { keyGroupOf } from "../../../src/partition/key-groups.js";
import { CheckpointStore, type CheckpointStoreOptions } from "../../../src/state/store/checkpoint-store.js";
import type { CheckpointDamagedError } from "../../../src/state/store/errors.js";
import { LOCK_FILE } from "../../../src/state/store/folder-lock.js";
import { FORMAT_KEY, groupKey, metadataKey, parseCheckpointKey, TAG_BLOCK } from "../../../src/state/store/keys.js";
import {
  modelEntries,
  randomChanges,
  restoredAt,
  type StateModel,
  seededRandom,
  tempDir,
  withRawDb,
  writeCheckpoint,
} from "./store-fixtures.js";

const UID = "counts";
const MAX = 8;
const OPTIONS: CheckpointStoreOptions = { retain: 3, compactionRatio: 1e9, blockEntries: 16 };

/** Checkpoints 1 (full) .. last of one operator at parallelism 1; the state at each. */
async function checkpoints(store: CheckpointStore, first: number, last: number, before: StateModel = new Map()) {
  const random = seededRandom(first * 17 + last);
  const models = new Map<number, StateModel>();
  let state = before;
  for (let id = first; id <= last; id++) {
    const sizes = id === 1 ? { updates: 150, deletes: 0 } : { updates: 25, deletes: 8 };
    state = await writeCheckpoint(store, {
      id,
      uid: UID,
      maxParallelism: MAX,
      parallelism: 1,
      modes: id === 1 ? ["full"] : ["incremental"],
      before: state,
      changes: randomChanges(random, state, { keys: 200, ...sizes, maxParallelism: MAX, version: id }),
    });
    models.set(id, state);
  }
  await store.idle();
  return models;
}

/** The first block of checkpoint `id` in a key group above `above`, found in the raw LevelDB. */
async function firstBlockOf(dir: string, id: number, above = -1): Promise<{ key: Buffer; keyGroup: number }> {
  let found: { key: Buffer; keyGroup: number } | undefined;
  await withRawDb(dir, async (db) => {
    for await (const key of db.keys()) {
      const parsed = parseCheckpointKey(key);
      if (parsed?.tag === TAG_BLOCK && parsed.id === id && parsed.keyGroup > above) {
        found = { key, keyGroup: parsed.keyGroup };
        break;
      }
    }
  });
  if (found === undefined) throw new Error(`checkpoint ${id} has no block`);
  return found;
}

function damageOf(errors: readonly unknown[]): { code: unknown; checkpointId: unknown; message: string }[] {
  return errors.map((error) => ({
    code: (error as { code?: unknown }).code,
    checkpointId: (error as Partial<CheckpointDamagedError>).checkpointId,
    message: String(error),
  }));
}

describe("A damaged checkpoint", () => {
  it("whose metadata record does not parse is reported by id at open, and the store falls back to the previous one", async () => {
    const { dir, remove } = await tempDir();
    try {
      let store = await CheckpointStore.open(dir, OPTIONS);
      const models = await checkpoints(store, 1, 2);
      await store.close();
      await withRawDb(dir, (db) => db.put(metadataKey(2), Buffer.from("this is not a checkpoint")));

      store = await CheckpointStore.open(dir, OPTIONS);
      const [report] = damageOf(store.openDamage);
      assert.equal(report.code, "CHECKPOINT_DAMAGED");
      assert.equal(report.checkpointId, 2);
      assert.match(report.message, /checkpoint 2 is damaged: metadata record does not parse: .*fails its checksum/);
      assert.deepEqual(
        store.completed().map((metadata) => metadata.id),
        [1],
      );
      const usable = await store.latestUsable();
      assert.equal(usable.checkpoint?.id, 1);
      assert.deepEqual(damageOf(usable.damage), [report]);
      assert.deepEqual(await restoredAt(store, 1, UID, MAX, 1), modelEntries(models.get(1) as StateModel));
      // The next checkpoint builds on 1: nothing of the damaged 2 leaks into it.
      const next = await checkpoints(store, 3, 3, models.get(1));
      assert.deepEqual(await restoredAt(store, 3, UID, MAX, 2), modelEntries(next.get(3) as StateModel));
      await store.close();
    } finally {
      await remove();
    }
  });

  it("whose metadata parses but has the wrong shape is reported the same way", async () => {
    const { dir, remove } = await tempDir();
    try {
      let store = await CheckpointStore.open(dir, OPTIONS);
      await checkpoints(store, 1, 2);
      await store.close();
      await withRawDb(dir, (db) => db.put(metadataKey(2), encodeStoreRecord({ id: 2, kind: "checkpoint", format: 1 })));
      store = await CheckpointStore.open(dir, OPTIONS);
      assert.match(
        String(store.openDamage[0]),
        /checkpoint 2 is damaged: metadata record does not parse: no timestamp/,
      );
      assert.equal(store.latestCompleted()?.id, 1);
      await store.close();
    } finally {
      await remove();
    }
  });

  it("with a block missing or corrupt names the checkpoint, operator and key group, and recovery falls back", async () => {
    const { dir, remove } = await tempDir();
    try {
      let store = await CheckpointStore.open(dir, OPTIONS);
      const models = await checkpoints(store, 1, 3);
      await store.close();
      const missing = await firstBlockOf(dir, 3);
      // Checkpoint 3 reads key groups in order: its own missing block comes before 2's corrupt one.
      const corrupt = await firstBlockOf(dir, 2, missing.keyGroup);
      await withRawDb(dir, async (db) => {
        await db.del(missing.key);
        const bytes = (await db.get(corrupt.key)) as Buffer;
        bytes[bytes.length - 1] ^= 0xff;
        await db.put(corrupt.key, bytes);
      });

      store = await CheckpointStore.open(dir, OPTIONS);
      assert.equal(store.latestCompleted()?.id, 3, "the metadata is intact; only a data check finds the damage");
      assert.deepEqual(await store.verify(3, "records"), []);
      const usable = await store.latestUsable();
      assert.equal(usable.checkpoint?.id, 1);
      const reports = damageOf(usable.damage);
      assert.deepEqual(
        reports.map((report) => [report.code, report.checkpointId]),
        [
          ["CHECKPOINT_DAMAGED", 3],
          ["CHECKPOINT_DAMAGED", 2],
        ],
      );
      assert.equal(
        reports[0].message,
        `CheckpointDamagedError: checkpoint 3 is damaged: operator "counts", key group ${missing.keyGroup}: block 0 of checkpoint 3 is missing`,
      );
      assert.match(
        reports[1].message,
        new RegExp(`key group ${corrupt.keyGroup}: block 0 of checkpoint 2: .*fails its checksum`),
      );
      await assert.rejects(restoredAt(store, 3, UID, MAX, 1), (error) => {
        assert.equal((error as { code?: unknown }).code, "CHECKPOINT_DAMAGED");
        return true;
      });

      // Restore 1, drop what is newer, carry on from 1.
      assert.deepEqual(await restoredAt(store, 1, UID, MAX, 1), modelEntries(models.get(1) as StateModel));
      assert.deepEqual(await store.discardNewerThan(1), [2, 3]);
      assert.deepEqual(
        store.completed().map((metadata) => metadata.id),
        [1],
      );
      const next = await checkpoints(store, 2, 2, models.get(1));
      assert.deepEqual(await restoredAt(store, 2, UID, MAX, 1), modelEntries(next.get(2) as StateModel));
      await store.close();
    } finally {
      await remove();
    }
  });

  it("whose predecessor's record of a key group is gone is reported, naming the missing checkpoint", async () => {
    const { dir, remove } = await tempDir();
    try {
      let store = await CheckpointStore.open(dir, OPTIONS);
      await checkpoints(store, 1, 3);
      await store.close();
      await withRawDb(dir, (db) => db.del(groupKey(2, UID, 5, 0)));
      store = await CheckpointStore.open(dir, OPTIONS);
      const usable = await store.latestUsable({ verify: "records" });
      assert.equal(usable.checkpoint?.id, 1);
      assert.deepEqual(
        damageOf(usable.damage).map((report) => report.message),
        [
          'CheckpointDamagedError: checkpoint 3 is damaged: operator "counts", key group 5: the records of checkpoint 2, which checkpoint 3 builds on, are missing',
          'CheckpointDamagedError: checkpoint 2 is damaged: operator "counts", key group 5: checkpoint 2 has no record of this key group',
        ],
      );
      await store.close();
    } finally {
      await remove();
    }
  });

  it("in a truncated LevelDB table is repaired away and reported, and the previous checkpoint restores exactly", async () => {
    const { dir, remove } = await tempDir();
    try {
      // A small write buffer: checkpoint 2's blocks reach a table file of their own, its metadata stays in the log.
      const options: CheckpointStoreOptions = {
        ...OPTIONS,
        leveldb: { writeBufferSize: 64 * 1024, compression: false },
      };
      let store = await CheckpointStore.open(dir, options);
      const at1 = (await checkpoints(store, 1, 1)).get(1) as StateModel;
      await store.close();
      store = await CheckpointStore.open(dir, options);
      const before = new Set(await readdir(dir));
      const changes = Array.from({ length: 30_000 }, (_, i) => ({
        keyGroup: keyGroupOf(`big${i}`, MAX),
        state: "count",
        key: `big${i}`,
        value: `${"x".repeat(60)}${i}`,
      }));
      await writeCheckpoint(store, {
        id: 2,
        uid: UID,
        maxParallelism: MAX,
        parallelism: 1,
        modes: ["incremental"],
        before: at1,
        changes,
      });
      await store.idle();
      // Closing waits for LevelDB's background flush: only then are the new table files all there.
      await store.close();
      const tables = await newTables(dir, before);
      assert.ok(tables.length > 0, "checkpoint 2 reached a table file of its own");
      // Every table checkpoint 2 brought is cut in half (which of them LevelDB reads first varies).
      for (const table of tables) {
        const victim = join(dir, table);
        await truncate(victim, Math.floor((await stat(victim)).size / 2));
      }

      store = await CheckpointStore.open(dir, options);
      assert.equal(store.openDamage[0]?.code, "CHECKPOINT_STORE_REPAIRED");
      assert.match(String(store.openDamage[0]), /could not read its files \(.*\.ldb.*\); repaired/);
      const lost = await readdir(join(dir, "lost"));
      assert.ok(
        tables.some((table) => lost.includes(table)),
        "LevelDB's repair moved a cut table to lost/",
      );
      const usable = await store.latestUsable();
      assert.equal(usable.checkpoint?.id, 1);
      const reports = damageOf(usable.damage);
      assert.ok(
        reports.some((report) => report.code === "CHECKPOINT_DAMAGED" && report.checkpointId === 2),
        `checkpoint 2 is reported: ${reports.map((report) => report.message).join("; ")}`,
      );
      assert.deepEqual(await restoredAt(store, 1, UID, MAX, 1), modelEntries(at1));
      await store.close();
    } finally {
      await remove();
    }
  });
});

/** The table files LevelDB wrote since `before` was listed (it flushes in the background: waits up to 2 s). */
async function newTables(dir: string, before: Set<string>): Promise<string[]> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const tables = (await readdir(dir)).filter((name) => name.endsWith(".ldb") && !before.has(name));
    if (tables.length > 0) return tables;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("LevelDB wrote no table file");
}

describe("Opening a folder", () => {
  it("refuses LevelDB data that is not a checkpoint store, and a newer store format", async () => {
    for (const [setup, problem] of [
      [
        (db: Parameters<Parameters<typeof withRawDb>[1]>[0]) => db.put(Buffer.from("user"), Buffer.from("x")),
        /no checkpoint store format record/,
      ],
      [
        (db: Parameters<Parameters<typeof withRawDb>[1]>[0]) => db.put(FORMAT_KEY, encodeStoreRecord({ format: 4 })),
        /format 4; this version reads formats 1 to 3/,
      ],
    ] as const) {
      const { dir, remove } = await tempDir();
      try {
        const raw = await CheckpointStore.open(dir);
        await raw.close();
        await withRawDb(dir, async (db) => {
          await db.clear();
          await setup(db);
        });
        await assert.rejects(CheckpointStore.open(dir), (error) => {
          assert.equal((error as { code?: unknown }).code, "CHECKPOINT_STORE_FORMAT");
          assert.match(String(error), problem);
          return true;
        });
      } finally {
        await remove();
      }
    }
  });

  it("reports a folder another process holds open as a retriable I/O error (LevelDB's lock, with the encoder thread's shared handle)", async () => {
    const { dir, remove } = await tempDir();
    try {
      const store = await CheckpointStore.open(dir);
      const module = new URL("../../../src/state/store/checkpoint-store.js", import.meta.url).href;
      const script = `import { CheckpointStore } from ${JSON.stringify(module)};
        try { await CheckpointStore.open(${JSON.stringify(dir)}); console.log("opened"); }
        catch (error) { console.log(error.code, error.retriable); }`;
      const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
      assert.equal(child.stdout.trim(), "CHECKPOINT_STORE_IO true", child.stderr);
      // Without the store's own lock file, LevelDB's lock still refuses the other process.
      await rm(join(dir, LOCK_FILE));
      const second = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
      assert.equal(second.stdout.trim(), "CHECKPOINT_STORE_IO true", second.stderr);
      await store.close();
    } finally {
      await remove();
    }
  });

  it("reports a folder a store on another worker thread holds open as a retriable I/O error, and opens it once that store closed", async () => {
    const { dir, remove } = await tempDir();
    const module = new URL("../../../src/state/store/checkpoint-store.js", import.meta.url).href;
    // The other thread opens the folder, says so, and closes its store when told.
    const worker = new Worker(
      `const { parentPort } = require("node:worker_threads");
      (async () => {
        const { CheckpointStore } = await import(${JSON.stringify(module)});
        const store = await CheckpointStore.open(${JSON.stringify(dir)});
        parentPort.postMessage("opened");
        parentPort.once("message", async () => {
          await store.close();
          parentPort.postMessage("closed");
        });
      })();`,
      { eval: true },
    );
    const next = () => new Promise<unknown>((resolve) => worker.once("message", resolve));
    try {
      assert.equal(await next(), "opened");
      await assert.rejects(CheckpointStore.open(dir), (error) => {
        assert.equal((error as { code?: unknown }).code, "CHECKPOINT_STORE_IO");
        assert.equal((error as { retriable?: unknown }).retriable, true);
        assert.match(String((error as Error).cause), /open in this process already \(on another thread\)/);
        return true;
      });
      const closed = next();
      worker.postMessage("close");
      assert.equal(await closed, "closed");
      const store = await CheckpointStore.open(dir);
      await store.close();
    } finally {
      await worker.terminate();
      await remove();
    }
  });

  it("takes over the lock file of a process that is gone (a SIGKILL leaves it)", async () => {
    const { dir, remove } = await tempDir();
    try {
      await mkdir(dir, { recursive: true });
      const gone = spawnSync(process.execPath, ["-e", "console.log(process.pid)"], { encoding: "utf8" });
      await writeFile(join(dir, LOCK_FILE), `${gone.stdout.trim()} 1`);
      const store = await CheckpointStore.open(dir);
      await store.close();
      await assert.rejects(stat(join(dir, LOCK_FILE)), { code: "ENOENT" }, "closing gives the lock back");
    } finally {
      await remove();
    }
  });

  it("reports a folder another store holds open as a retriable I/O error", async () => {
    const { dir, remove } = await tempDir();
    try {
      const store = await CheckpointStore.open(dir);
      await assert.rejects(CheckpointStore.open(dir), (error) => {
        assert.equal((error as { code?: unknown }).code, "CHECKPOINT_STORE_IO");
        assert.equal((error as { retriable?: unknown }).retriable, true);
        return true;
      });
      await store.close();
    } finally {
      await remove();
    }
  });
});
