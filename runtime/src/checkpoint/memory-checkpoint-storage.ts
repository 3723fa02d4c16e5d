import type { KeyGroupRange } from "../partition/key-groups.js";
import { DELETED, type InFlightBatch, type KeyedStateEntry, type OperatorSnapshot } from "../state/snapshot.js";
import type { CheckpointMetadata, CheckpointStorage } from "./checkpoint-storage.js";

interface StoredShard {
  readonly shardIndex: number;
  readonly mode: "full" | "incremental";
  readonly keyGroups: KeyGroupRange;
  readonly keyed: KeyedStateEntry[];
  readonly operatorState: Record<string, { distribution: "split" | "union"; items: readonly unknown[] }>;
  readonly stateVersions: Readonly<Record<string, number>>;
  readonly inFlight: readonly InFlightBatch[];
}

/**
 * Checkpoints kept in this process's memory (Flink's JobManager checkpoint storage): for jobs
 * that must survive a failing function but not the loss of the process, and for tests of the
 * coordinator. Entries are deep-copied through structuredClone as they are read, so the
 * snapshot's copy-on-write contract is exercised like with the LevelDB store.
 */
export class MemoryCheckpointStorage implements CheckpointStorage {
  private readonly written = new Map<number, Map<string, StoredShard[]>>();
  private readonly completedIds: number[] = [];
  private readonly metadata = new Map<number, CheckpointMetadata>();

  async writeSnapshot(checkpointId: number, shardIndex: number, snapshot: OperatorSnapshot): Promise<void> {
    try {
      const keyed: KeyedStateEntry[] = [];
      let n = 0;
      for (const entry of snapshot.keyed) {
        keyed.push({ ...entry, value: entry.value === DELETED ? DELETED : structuredClone(entry.value) });
        // Yield now and then, as a real store does, so processing goes on between chunks.
        if (++n % 1000 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      let byUid = this.written.get(checkpointId);
      if (byUid === undefined) this.written.set(checkpointId, (byUid = new Map()));
      const shards = byUid.get(snapshot.uid) ?? [];
      shards.push({
        shardIndex,
        mode: snapshot.mode,
        keyGroups: snapshot.keyGroups,
        keyed,
        operatorState: structuredClone(snapshot.operatorState) as StoredShard["operatorState"],
        stateVersions: { ...snapshot.stateVersions },
        inFlight: structuredClone(snapshot.inFlight ?? []),
      });
      byUid.set(snapshot.uid, shards);
    } finally {
      snapshot.release();
    }
  }

  async complete(metadata: CheckpointMetadata): Promise<void> {
    this.metadata.set(metadata.id, metadata);
    this.completedIds.push(metadata.id);
  }

  async abort(checkpointId: number): Promise<void> {
    this.written.delete(checkpointId);
  }

  async latestCompleted(): Promise<CheckpointMetadata | undefined> {
    const id = this.completedIds[this.completedIds.length - 1];
    return id === undefined ? undefined : this.metadata.get(id);
  }

  /** Merges, per key group, the newest full snapshot at or before `checkpointId` and the increments after it. */
  async *restoreKeyed(checkpointId: number, uid: string, range: KeyGroupRange): AsyncIterable<KeyedStateEntry> {
    const state = new Map<string, KeyedStateEntry>();
    for (let kg = range.start; kg <= range.end; kg++) {
      for (const id of this.completedIds) {
        if (id > checkpointId) break;
        for (const shard of this.written.get(id)?.get(uid) ?? []) {
          if (kg < shard.keyGroups.start || kg > shard.keyGroups.end) continue;
          if (shard.mode === "full")
            for (const key of [...state.keys()]) if (key.startsWith(`${kg}\u0000`)) state.delete(key);
          for (const entry of shard.keyed) {
            if (entry.keyGroup !== kg) continue;
            const id2 = `${kg}\u0000${entry.state}\u0000${JSON.stringify(entry.key)}`;
            if (entry.value === DELETED) state.delete(id2);
            else state.set(id2, entry);
          }
        }
      }
    }
    for (const entry of state.values()) yield { ...entry, value: structuredClone(entry.value) };
  }

  restoreInFlight(checkpointId: number, uid: string, shardIndex: number): readonly InFlightBatch[] {
    const shard = this.written
      .get(checkpointId)
      ?.get(uid)
      ?.find((s) => s.shardIndex === shardIndex);
    return structuredClone(shard?.inFlight ?? []);
  }

  async restoreStateVersions(checkpointId: number, uid: string): Promise<Record<string, number>> {
    const versions: Record<string, number> = {};
    for (const shard of this.written.get(checkpointId)?.get(uid) ?? []) Object.assign(versions, shard.stateVersions);
    return versions;
  }

  async restoreOperatorState(
    checkpointId: number,
    uid: string,
    shardIndex: number,
    parallelism: number,
  ): Promise<Record<string, unknown[]>> {
    const shards = [...(this.written.get(checkpointId)?.get(uid) ?? [])].sort((a, b) => a.shardIndex - b.shardIndex);
    const result: Record<string, unknown[]> = {};
    const all = new Map<string, { distribution: "split" | "union"; items: unknown[] }>();
    for (const shard of shards) {
      for (const [name, list] of Object.entries(shard.operatorState)) {
        const gathered = all.get(name) ?? { distribution: list.distribution, items: [] };
        if (list.distribution === "union" && gathered.items.length > 0) continue; // every shard holds the same
        gathered.items.push(...list.items);
        all.set(name, gathered);
      }
    }
    for (const [name, list] of all) {
      // Split lists are dealt round-robin over the new shards, as Flink's even split redistribution.
      result[name] =
        list.distribution === "union"
          ? structuredClone(list.items)
          : structuredClone(list.items.filter((_, i) => i % parallelism === shardIndex));
    }
    return result;
  }
}
