import type { CheckpointMetadata, CheckpointStorage } from "../checkpoint/checkpoint-storage.js";
import { SOURCE_SPLITS_STATE } from "../checkpoint/shard-checkpointing.js";
import { keyGroupRangeOf } from "../partition/key-groups.js";
import type { ExecutionPlan } from "../plan/execution-plan.js";
import type { OperatorRestore } from "../state/snapshot.js";
import { NonRestoredStateError } from "./errors.js";

/**
 * The state a run starts from: a completed checkpoint (or savepoint), with every operator's list
 * state loaded up front (it is small, and sources need their splits synchronously when their
 * readers are made); keyed state is streamed from the storage per shard's key-group range when
 * the shard restores, so a shard reads only its own key groups, at any parallelism.
 */
export class CheckpointRestore {
  private constructor(
    readonly metadata: CheckpointMetadata,
    private readonly storage: CheckpointStorage,
    /** uid -> shard index -> list state. */
    private readonly operatorState: Map<string, Map<number, Record<string, unknown[]>>>,
    /** uid -> the version each keyed state was stored at (absent: all at version 1). */
    private readonly stateVersions: Map<string, Readonly<Record<string, number>>>,
  ) {}

  static async load(
    storage: CheckpointStorage,
    metadata: CheckpointMetadata,
    plan: ExecutionPlan,
    uidOf: (nodeId: number) => string,
    allowNonRestoredState = false,
  ): Promise<CheckpointRestore> {
    const present = new Set<string>();
    const operatorState = new Map<string, Map<number, Record<string, unknown[]>>>();
    const stateVersions = new Map<string, Readonly<Record<string, number>>>();
    for (const vertex of plan.vertices) {
      for (const node of vertex.operators) {
        const uid = uidOf(node.id);
        present.add(uid);
        if (metadata.operators[uid] === undefined) continue;
        const byShard = new Map<number, Record<string, unknown[]>>();
        for (let shard = 0; shard < vertex.parallelism; shard++) {
          byShard.set(shard, await storage.restoreOperatorState(metadata.id, uid, shard, vertex.parallelism));
        }
        operatorState.set(uid, byShard);
        const versions = await storage.restoreStateVersions?.(metadata.id, uid);
        if (versions !== undefined) stateVersions.set(uid, versions);
      }
    }
    const missing = Object.keys(metadata.operators).filter((uid) => !present.has(uid));
    if (missing.length > 0 && !allowNonRestoredState) throw new NonRestoredStateError(metadata.id, missing);
    return new CheckpointRestore(metadata, storage, operatorState, stateVersions);
  }

  restoreFor(uid: string, shardIndex: number, parallelism: number): OperatorRestore | undefined {
    const recorded = this.metadata.operators[uid];
    if (recorded === undefined) return undefined;
    const range = keyGroupRangeOf(shardIndex, recorded.maxParallelism, parallelism);
    const storage = this.storage;
    const operatorState = this.operatorState.get(uid)?.get(shardIndex) ?? {};
    const id = this.metadata.id;
    const versions = this.stateVersions.get(uid);
    const stateVersions = versions === undefined ? {} : { stateVersions: versions };
    // Iterables are lazy: only the one the operator reads touches the storage.
    const keyed = { [Symbol.asyncIterator]: () => storage.restoreKeyed(id, uid, range)[Symbol.asyncIterator]() };
    if (storage.restoreKeyedBatches === undefined) return { keyed, operatorState, ...stateVersions };
    const batches = storage.restoreKeyedBatches.bind(storage);
    return {
      keyed,
      keyedBatches: { [Symbol.asyncIterator]: () => batches(id, uid, range)[Symbol.asyncIterator]() },
      operatorState,
      ...stateVersions,
    };
  }

  restoredSplits(uid: string, shardIndex: number): unknown[] | undefined {
    if (this.metadata.operators[uid] === undefined) return undefined;
    return this.operatorState.get(uid)?.get(shardIndex)?.[SOURCE_SPLITS_STATE] ?? [];
  }
}

/** The checkpoint to restore: the newest usable one, reporting (by name) any damaged one passed over. */
export async function latestRestorable(
  storage: CheckpointStorage,
  log: (message: string) => void,
): Promise<CheckpointMetadata | undefined> {
  if (storage.latestUsable === undefined) return storage.latestCompleted();
  const { checkpoint, damage } = await storage.latestUsable();
  for (const error of damage) log(`skipping a damaged checkpoint: ${error.message}`);
  return checkpoint;
}

/** What a checkpoint's metadata records of each operator of a plan, by uid. */
export function checkpointedOperators(
  plan: ExecutionPlan,
  uidOf: (nodeId: number) => string,
  defaultMaxParallelism: number,
): CheckpointMetadata["operators"] {
  const operators: Record<string, { parallelism: number; maxParallelism: number; shards: number }> = {};
  for (const vertex of plan.vertices) {
    for (const node of vertex.operators) {
      const maxParallelism = plan.parallelismOf.get(node.id)?.maxParallelism ?? defaultMaxParallelism;
      operators[uidOf(node.id)] = { parallelism: vertex.parallelism, maxParallelism, shards: vertex.parallelism };
    }
  }
  return operators;
}
