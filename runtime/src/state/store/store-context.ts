import type { Level } from "level";
import type { Catalog } from "./catalog.js";
import type { ColumnsEncoder } from "./columns-job.js";
import { StoreIoError } from "./errors.js";

/** The LevelDB handle of a store: binary keys and values. */
export type StoreDb = Level<Buffer, Buffer>;

export type BatchOp = { type: "put"; key: Buffer; value: Buffer } | { type: "del"; key: Buffer };

/** Options of a store, with their defaults filled in (see CheckpointStoreOptions for each). */
export interface ResolvedStoreOptions {
  readonly retain: number;
  readonly blockEntries: number;
  readonly blockBytes: number;
  readonly chunkEntries: number;
  readonly compactionRatio: number;
  readonly maxChainLength: number;
}

/** What the store's parts share: the folder, LevelDB, the catalog and the options. */
export interface StoreContext {
  readonly dir: string;
  readonly db: StoreDb;
  readonly catalog: Catalog;
  readonly options: ResolvedStoreOptions;
  /** Encodes copied columns of snapshots off the writing thread; absent: the writer encodes them itself. */
  readonly encoder?: ColumnsEncoder;
}

/** Lets the shard's mailbox run between chunks of a long write or read. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** True for LevelDB's errors that mean a file could not be read (not a lock or a closed database). */
export function isUnreadable(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === "LEVEL_CORRUPTION" || code === "LEVEL_IO_ERROR";
}

/** Runs a LevelDB action, turning LevelDB's errors into StoreIoError naming it; the store's own errors pass as they are. */
export async function withIoErrors<T>(dir: string, action: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (String((error as { code?: unknown }).code).startsWith("LEVEL_"))
      throw new StoreIoError(dir, action, { cause: error });
    throw error;
  }
}
