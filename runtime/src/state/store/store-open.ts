import { resolve } from "node:path";
import type { KeyflowError } from "@keyflow/functions-sdk";
import { Level } from "level";
import { decodeStoreRecord, encodeStoreRecord } from "../../codec/store-codec.js";
import { Catalog } from "./catalog.js";
import { loadCatalog } from "./catalog-loader.js";
import { StoreFormatError, StoreIoError, StoreRepairedError } from "./errors.js";
import { FolderHeld, lockFolder, unlockFolder } from "./folder-lock.js";
import { blockRange, checkpointEnd, checkpointStart, FORMAT_KEY, groupKey } from "./keys.js";
import { isReadableFormat, STORE_FORMAT } from "./records.js";
import { isUnreadable, type StoreDb } from "./store-context.js";

/** LevelDB options a store passes through (see classic-level's README for each). */
export interface LevelDbOptions {
  readonly writeBufferSize?: number;
  readonly cacheSize?: number;
  readonly blockSize?: number;
  readonly maxFileSize?: number;
  readonly compression?: boolean;
  /** Lets worker threads of one process open the same folder. */
  readonly multithreading?: boolean;
}

export interface OpenedStore {
  readonly db: StoreDb;
  readonly catalog: Catalog;
  /** What was found wrong at open: records that do not parse, a LevelDB repair. */
  readonly damage: KeyflowError[];
}

/**
 * Opens the LevelDB folder of a store and loads its catalog. A new folder gets the format
 * record; a folder with another format, or LevelDB data without one, is refused. When LevelDB
 * cannot read its own files (a truncated or corrupt table, a damaged MANIFEST), and `repair` is
 * "auto", it runs LevelDB's repair, which keeps every readable table and moves the others to
 * `lost/`, reports that, and loads again. Then it clears what a crash left: checkpoints that never
 * completed and compaction bases that were not finished.
 */
export async function openStore(dir: string, repair: "auto" | "never", leveldb: LevelDbOptions): Promise<OpenedStore> {
  // LevelDB's lock refuses a second handle in this process only without `multithreading`: this
  // thread's own stores are refused here, other threads' by the folder's lock (folder-lock.ts).
  const folder = resolve(dir);
  if (openFolders.has(folder)) {
    const cause = new Error("the folder is open in this process already");
    throw new StoreIoError(dir, "opening LevelDB", { cause, retriable: true });
  }
  try {
    lockFolder(folder);
  } catch (error) {
    if (!(error instanceof FolderHeld)) throw new StoreIoError(dir, "locking the folder", { cause: error });
    throw new StoreIoError(dir, "opening LevelDB", { cause: error, retriable: true });
  }
  openFolders.add(folder);
  try {
    return await openUnlocked(dir, repair, leveldb);
  } catch (error) {
    openFolders.delete(folder);
    unlockFolder(folder);
    throw error;
  }
}

/** Folders a store on this thread has open (see openStore); `closedStore` takes one off. */
const openFolders = new Set<string>();

/** The store of `dir` closed its LevelDB handle. */
export function closedStore(dir: string): void {
  const folder = resolve(dir);
  openFolders.delete(folder);
  unlockFolder(folder);
}

async function openUnlocked(dir: string, repair: "auto" | "never", leveldb: LevelDbOptions): Promise<OpenedStore> {
  const damage: KeyflowError[] = [];
  let opened: { db: StoreDb; catalog: Catalog; neverCompleted: number[] };
  try {
    opened = await openAndLoad(dir, leveldb, damage);
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause ?? error;
    if (repair === "never" || !(isUnreadable(error) || isUnreadable(cause))) throw error;
    try {
      await (Level as unknown as { repair(location: string): Promise<void> }).repair(dir);
    } catch (repairError) {
      throw new StoreIoError(dir, "LevelDB repair", { cause: repairError });
    }
    damage.push(new StoreRepairedError(dir, { cause }));
    opened = await openAndLoad(dir, leveldb, damage);
  }
  const { db, catalog, neverCompleted } = opened;
  try {
    for (const id of neverCompleted) await db.clear({ gte: checkpointStart(id), lt: checkpointEnd(id) });
    for (const group of [...catalog.allGroups()]) {
      if (group.complete) continue;
      const [gte, lt] = blockRange(group.id, group.uid, group.keyGroup, group.kind);
      await db.clear({ gte, lt });
      await db.del(groupKey(group.id, group.uid, group.keyGroup, group.kind));
      catalog.removeGroup(group);
    }
  } catch (error) {
    await db.close();
    throw new StoreIoError(dir, "clearing unfinished checkpoints", { cause: error });
  }
  return { db, catalog, damage };
}

async function openAndLoad(
  dir: string,
  leveldb: LevelDbOptions,
  damage: KeyflowError[],
): Promise<{ db: StoreDb; catalog: Catalog; neverCompleted: number[] }> {
  const db: StoreDb = new Level<Buffer, Buffer>(dir, { keyEncoding: "buffer", valueEncoding: "buffer" });
  try {
    await db.open({ createIfMissing: true, ...leveldb });
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause ?? error;
    if (isUnreadable(cause)) throw error;
    const locked = (cause as { code?: unknown }).code === "LEVEL_LOCKED";
    throw new StoreIoError(dir, "opening LevelDB", { cause, retriable: locked });
  }
  try {
    await checkFormat(db, dir);
    const catalog = new Catalog();
    const loaded = await loadCatalog(db, catalog);
    damage.push(...loaded.damage);
    return { db, catalog, neverCompleted: loaded.neverCompleted };
  } catch (error) {
    await db.close();
    throw error;
  }
}

async function checkFormat(db: StoreDb, dir: string): Promise<void> {
  const record = await db.get(FORMAT_KEY);
  if (record === undefined) {
    const any = await db.keys({ limit: 1 }).all();
    if (any.length > 0) throw new StoreFormatError(dir, "holds LevelDB data but no checkpoint store format record");
    await db.put(FORMAT_KEY, encodeStoreRecord({ format: STORE_FORMAT }), { sync: true });
    return;
  }
  let format: unknown;
  try {
    format = (decodeStoreRecord(record) as { format?: unknown }).format;
  } catch (error) {
    throw new StoreFormatError(dir, "its format record does not parse", { cause: error });
  }
  if (!isReadableFormat(format)) {
    throw new StoreFormatError(dir, `it has format ${String(format)}; this version reads formats 1 to ${STORE_FORMAT}`);
  }
  // Older checkpoints stay readable as they are; new ones may carry state versions and in-flight
  // records, which an older reader would ignore, so it must refuse the store from now on.
  if (format !== STORE_FORMAT) await db.put(FORMAT_KEY, encodeStoreRecord({ format: STORE_FORMAT }), { sync: true });
}
