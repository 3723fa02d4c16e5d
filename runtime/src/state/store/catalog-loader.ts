import { decodeStoreRecord } from "../../codec/store-codec.js";
import type { Catalog } from "./catalog.js";
import { CheckpointDamagedError } from "./errors.js";
import {
  ALL_CHECKPOINTS_END,
  ALL_CHECKPOINTS_START,
  blocksStart,
  checkpointEnd,
  checkpointIdOf,
  checkpointStart,
  parseCheckpointKey,
  TAG_GROUP,
  TAG_MANIFEST,
  TAG_METADATA,
  TAG_SETTLED,
} from "./keys.js";
import {
  type CheckpointMetadata,
  type GroupRecord,
  groupProblem,
  manifestProblem,
  metadataProblem,
  type ShardManifest,
} from "./records.js";
import type { StoreDb } from "./store-context.js";

export interface LoadedCatalog {
  /** Records that did not parse, by checkpoint. */
  readonly damage: CheckpointDamagedError[];
  /** Ids with records but no settled record: checkpoints that never completed (a crash mid-write). */
  readonly neverCompleted: number[];
}

/**
 * Fills the catalog from LevelDB: every checkpoint id's small records (metadata, settled,
 * manifests, key group records), never its blocks. Finds the ids by seeking from one id's range
 * to the next, so the cost is a few reads per checkpoint id, not a scan of the state. A record
 * that fails its checksum or its shape is reported as damage of its checkpoint and left out.
 * LevelDB's own read errors propagate (the store then repairs LevelDB and loads again).
 */
export async function loadCatalog(db: StoreDb, catalog: Catalog): Promise<LoadedCatalog> {
  const damage: CheckpointDamagedError[] = [];
  const neverCompleted: number[] = [];
  let from = ALL_CHECKPOINTS_START;
  for (;;) {
    const first = await db.keys({ gte: from, lt: ALL_CHECKPOINTS_END, limit: 1 }).all();
    if (first.length === 0) break;
    const id = checkpointIdOf(first[0]) as number;
    from = checkpointEnd(id);
    const records = await db.iterator({ gte: checkpointStart(id), lt: blocksStart(id) }).all();
    let settled = false;
    for (const [key] of records) if (parseCheckpointKey(key)?.tag === TAG_SETTLED) settled = true;
    if (!settled) {
      neverCompleted.push(id);
      continue;
    }
    catalog.settled.add(id);
    for (const [key, value] of records) {
      const parsed = parseCheckpointKey(key);
      if (parsed === undefined) {
        damage.push(new CheckpointDamagedError(id, `a record under an unknown key ${key.toString("hex")}`));
        continue;
      }
      const report = (what: string, problem: string, uid?: string, keyGroup?: number, cause?: unknown) =>
        damage.push(new CheckpointDamagedError(id, `${what}: ${problem}`, uid, keyGroup, { cause }));
      let decoded: unknown;
      try {
        decoded = parsed.tag === TAG_SETTLED ? undefined : decodeStoreRecord(value);
      } catch (error) {
        const what = parsed.tag === TAG_METADATA ? "metadata record" : "record";
        const uid = "uid" in parsed ? parsed.uid : undefined;
        report(`${what} does not parse`, (error as Error).message, uid, undefined, error);
        continue;
      }
      if (parsed.tag === TAG_METADATA) {
        const problem = metadataProblem(decoded, id);
        if (problem === undefined) catalog.metadata.set(id, decoded as CheckpointMetadata);
        else report("metadata record does not parse", problem);
      } else if (parsed.tag === TAG_MANIFEST) {
        const problem = manifestProblem(decoded, parsed.uid, parsed.shard);
        if (problem === undefined) catalog.addManifest(id, decoded as ShardManifest);
        else report(`manifest of shard ${parsed.shard}`, problem, parsed.uid);
      } else if (parsed.tag === TAG_GROUP) {
        const problem = groupProblem(decoded);
        if (problem === undefined) {
          const { uid, keyGroup, kind } = parsed;
          catalog.addGroup({ ...(decoded as GroupRecord), id, uid, keyGroup, kind });
        } else {
          report("key group record", problem, parsed.uid, parsed.keyGroup);
        }
      }
    }
  }
  return { damage, neverCompleted };
}
