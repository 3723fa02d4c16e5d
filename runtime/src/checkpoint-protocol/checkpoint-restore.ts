import type { CheckpointMetadata, CheckpointStorage } from "../checkpoint/checkpoint-storage.js";
import { SOURCE_SPLITS_STATE } from "../checkpoint/shard-checkpointing.js";
import { LOOP_STATE } from "../handler/function-dispatcher-operator.js";
import { keyGroupRangeOf } from "../partition/key-groups.js";
import type { ExecutionPlan } from "../plan/execution-plan.js";
import type { InFlightBatch, OperatorRestore } from "../state/snapshot.js";
import { NonRestoredStateError, UnalignedRescaleError } from "./errors.js";

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
    /** head uid -> shard index -> records in flight into that shard (unaligned checkpoints). */
    private readonly inFlight: Map<string, Map<number, readonly InFlightBatch[]>>,
  ) {}

  /** How many in-flight records the restored checkpoint holds (0 for an aligned one). */
  get inFlightRecords(): number {
    let records = 0;
    for (const byShard of this.inFlight.values()) {
      for (const batches of byShard.values()) for (const batch of batches) records += batch.values.length;
    }
    return records;
  }

  /**
   * How many messages between per-key functions the restored checkpoint holds in flight on
   * feedback loops (union list state: every shard has them all, so shard 0's are counted).
   */
  get loopMessages(): number {
    let messages = 0;
    for (const byShard of this.operatorState.values()) messages += byShard.get(0)?.[LOOP_STATE]?.length ?? 0;
    return messages;
  }

  /** What a restore log line says of the records and messages in flight it replays, "" for none. */
  get inFlightNote(): string {
    const notes: string[] = [];
    const records = this.inFlightRecords;
    if (records > 0) notes.push(`${records} in-flight records to replay`);
    const messages = this.loopMessages;
    if (messages > 0) notes.push(`${messages} messages between functions in flight`);
    return notes.length === 0 ? "" : ` (${notes.join(", ")})`;
  }

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
    const inFlight = new Map<string, Map<number, readonly InFlightBatch[]>>();
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
      const head = uidOf(vertex.head.id);
      const recorded = metadata.operators[head];
      if (recorded === undefined || storage.restoreInFlight === undefined) continue;
      const byShard = new Map<number, readonly InFlightBatch[]>();
      for (let shard = 0; shard < recorded.shards; shard++) {
        const batches = await storage.restoreInFlight(metadata.id, head, shard);
        if (batches.length > 0) byShard.set(shard, batches);
      }
      // The records were routed to the old shards (a key's records to its key group's shard); at
      // another parallelism they would need routing again, which is not done (yet): refuse.
      if (byShard.size > 0 && recorded.parallelism !== vertex.parallelism) {
        throw new UnalignedRescaleError(metadata.id, head, recorded.parallelism, vertex.parallelism);
      }
      if (byShard.size > 0) inFlight.set(head, byShard);
    }
    const missing = Object.keys(metadata.operators).filter((uid) => !present.has(uid));
    if (missing.length > 0 && !allowNonRestoredState) throw new NonRestoredStateError(metadata.id, missing);
    return new CheckpointRestore(metadata, storage, operatorState, stateVersions, inFlight);
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

  /** The records in flight into shard `shardIndex` whose head operator is `uid`, in replay order. */
  restoredInFlight(uid: string, shardIndex: number): readonly InFlightBatch[] | undefined {
    return this.inFlight.get(uid)?.get(shardIndex);
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
