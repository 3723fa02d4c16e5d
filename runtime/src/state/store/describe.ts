import { readKeyedBatches } from "./keyed-reader.js";
import type { CheckpointMetadata } from "./records.js";
import type { StoreContext } from "./store-context.js";

/** What a checkpoint holds, for `keyflow checkpoints list` and logs. */
export interface CheckpointDescription {
  readonly id: number;
  readonly kind: "checkpoint" | "savepoint";
  readonly timestamp: number;
  readonly jobName: string;
  readonly maxParallelism: number;
  readonly format: number;
  /** Bytes of all blocks a restore of this checkpoint reads (shared with other checkpoints). */
  readonly bytes: number;
  /** Bytes this checkpoint's snapshots wrote: for an incremental checkpoint, its changes. */
  readonly writtenBytes: number;
  readonly operators: Readonly<Record<string, OperatorDescription>>;
}

export interface OperatorDescription {
  readonly parallelism: number;
  readonly maxParallelism: number;
  readonly shards: number;
  /** Each shard's snapshot mode, by shard index. */
  readonly modes: readonly ("full" | "incremental")[];
  /** Key groups holding at least one key. */
  readonly keyGroups: number;
  /** Live keys per state name, in the merged view. */
  readonly keys: Readonly<Record<string, number>>;
  readonly bytes: number;
  readonly writtenBytes: number;
  /** The version each keyed state was stored at (empty for format 1: all at version 1). */
  readonly stateVersions: Readonly<Record<string, number>>;
  /** List state by name: its distribution and number of items over all shards. */
  readonly listState: Readonly<Record<string, { readonly distribution: "split" | "union"; readonly items: number }>>;
}

/**
 * Describes a checkpoint. Counting keys reads the merged view of every key group (about the cost
 * of a restore); sizes and list state come from the catalog.
 */
export async function describeCheckpoint(
  ctx: StoreContext,
  metadata: CheckpointMetadata,
): Promise<CheckpointDescription> {
  const operators: Record<string, OperatorDescription> = {};
  let bytes = 0;
  let writtenBytes = 0;
  for (const [uid, info] of Object.entries(metadata.operators)) {
    const keys: Record<string, number> = {};
    const withKeys = new Set<number>();
    for await (const batch of readKeyedBatches(
      ctx,
      metadata.id,
      uid,
      { start: 0, end: info.maxParallelism - 1 },
      true,
    )) {
      for (const entry of batch) {
        keys[entry.state] = (keys[entry.state] ?? 0) + 1;
        withKeys.add(entry.keyGroup);
      }
    }
    let operatorBytes = 0;
    for (let keyGroup = 0; keyGroup < info.maxParallelism; keyGroup++) {
      for (const group of ctx.catalog.chain(uid, keyGroup, metadata.id)) operatorBytes += group.bytes;
    }
    const modes: ("full" | "incremental")[] = [];
    const listState: Record<string, { distribution: "split" | "union"; items: number }> = {};
    let operatorWritten = 0;
    const stateVersions: Record<string, number> = {};
    for (let shard = 0; shard < info.shards; shard++) {
      const manifest = ctx.catalog.manifest(metadata.id, uid, shard);
      if (manifest === undefined) continue;
      modes.push(manifest.mode);
      operatorWritten += manifest.bytes;
      Object.assign(stateVersions, manifest.stateVersions);
      for (const [name, list] of Object.entries(manifest.operatorState)) {
        const described = (listState[name] ??= { distribution: list.distribution, items: 0 });
        described.items += list.items.length;
      }
    }
    operators[uid] = {
      parallelism: info.parallelism,
      maxParallelism: info.maxParallelism,
      shards: info.shards,
      modes,
      keyGroups: withKeys.size,
      keys,
      bytes: operatorBytes,
      writtenBytes: operatorWritten,
      stateVersions,
      listState,
    };
    bytes += operatorBytes;
    writtenBytes += operatorWritten;
  }
  const { id, kind, timestamp, jobName, maxParallelism, format } = metadata;
  return { id, kind, timestamp, jobName, maxParallelism, format, bytes, writtenBytes, operators };
}
