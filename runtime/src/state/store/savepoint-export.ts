import type { KeyGroupRange } from "../../partition/key-groups.js";
import type { KeyedStateEntry } from "../snapshot.js";
import { CheckpointDamagedError } from "./errors.js";
import { readKeyedBatches } from "./keyed-reader.js";
import { type CheckpointMetadata, STORE_FORMAT } from "./records.js";
import type { ShardWrite } from "./snapshot-writer.js";
import type { StoreContext } from "./store-context.js";

/** The store an export writes into: a freshly opened, empty checkpoint store. */
export interface ExportTarget {
  writeShard(write: ShardWrite): Promise<void>;
  complete(metadata: CheckpointMetadata): Promise<void>;
}

/**
 * Copies checkpoint `metadata.id` into `target` as one self-contained savepoint: for every
 * operator shard, a FULL snapshot of the merged view of its key groups (no chain, no compaction
 * base, nothing shared with the source) with its list state, then metadata of kind "savepoint"
 * under the same id. The copy is an ordinary store of the current format, so `CheckpointStore.open` on its
 * folder lists that one checkpoint and restores it at any parallelism.
 */
export async function exportSavepoint(
  ctx: StoreContext,
  metadata: CheckpointMetadata,
  target: ExportTarget,
): Promise<void> {
  for (const [uid, info] of Object.entries(metadata.operators)) {
    for (let shard = 0; shard < info.shards; shard++) {
      const manifest = ctx.catalog.manifest(metadata.id, uid, shard);
      if (manifest === undefined) {
        throw new CheckpointDamagedError(metadata.id, `the manifest of shard ${shard} is missing`, uid);
      }
      await target.writeShard({
        id: metadata.id,
        uid,
        shardIndex: shard,
        mode: "full",
        keyGroups: manifest.keyGroups,
        keyed: entries(ctx, metadata.id, uid, manifest.keyGroups),
        operatorState: manifest.operatorState,
        // A format-1 source has none: the copy says so explicitly, every state at version 1.
        stateVersions: manifest.stateVersions ?? {},
        // An unaligned checkpoint's in-flight records are part of its state: a copy keeps them.
        inFlight: manifest.inFlight,
      });
    }
  }
  await target.complete({ ...metadata, kind: "savepoint", format: STORE_FORMAT });
}

async function* entries(
  ctx: StoreContext,
  id: number,
  uid: string,
  range: KeyGroupRange,
): AsyncGenerator<KeyedStateEntry> {
  for await (const batch of readKeyedBatches(ctx, id, uid, range, true)) yield* batch;
}
