import { encodeStoreRecord } from "../../codec/store-codec.js";
import { CheckpointAbortedError, CheckpointIncompleteError, InvalidCheckpointRequestError } from "./errors.js";
import { checkpointEnd, checkpointStart, MAX_CHECKPOINT_ID, metadataKey, settledKey } from "./keys.js";
import { type CheckpointMetadata, metadataProblem, type ShardManifest } from "./records.js";
import { type ShardWrite, type WrittenShard, writeShard } from "./snapshot-writer.js";
import { type StoreContext, withIoErrors } from "./store-context.js";
import { coverageProblem } from "./verify.js";

interface Pending {
  readonly writes: Set<Promise<unknown>>;
  readonly shards: Set<string>;
  aborted: boolean;
}

/**
 * The write side of a store: checkpoints being written (their shards' writes in flight), their
 * completion and their abortion. A checkpoint is pending from its first shard's write until it
 * completes or is aborted; the catalog learns of its manifests and records as each write
 * finishes, but nothing reads them before `complete` marks the id settled.
 */
export class CheckpointWrites {
  private readonly pending = new Map<number, Pending>();
  private readonly aborted = new Set<number>();

  constructor(
    private readonly ctx: StoreContext,
    private readonly closing: () => boolean,
  ) {}

  /** The highest id being written or aborted in this process (0: none). */
  get highestId(): number {
    return Math.max(0, ...this.pending.keys(), ...this.aborted);
  }

  async write(write: ShardWrite): Promise<WrittenShard> {
    const id = write.id;
    this.checkNewId(id);
    if (!Number.isInteger(write.shardIndex) || write.shardIndex < 0 || write.shardIndex > 0xffff) {
      throw new InvalidCheckpointRequestError(id, `shard index ${write.shardIndex} is not in 0..65535`);
    }
    if (this.aborted.has(id)) throw new CheckpointAbortedError(id);
    let pending = this.pending.get(id);
    if (pending === undefined)
      this.pending.set(id, (pending = { writes: new Set(), shards: new Set(), aborted: false }));
    const slot = `${write.uid}\u0000${write.shardIndex}`;
    if (pending.shards.has(slot)) {
      throw new InvalidCheckpointRequestError(id, `operator "${write.uid}" shard ${write.shardIndex} wrote twice`);
    }
    pending.shards.add(slot);
    const state = pending;
    const writing = writeShard(this.ctx, write, () => state.aborted || this.closing());
    pending.writes.add(writing);
    try {
      const written = await withIoErrors(this.ctx.dir, "writing a snapshot", () => writing);
      if (!state.aborted) {
        this.ctx.catalog.addManifest(id, written.manifest);
        for (const group of written.groups) this.ctx.catalog.addGroup(group);
      }
      return written;
    } finally {
      pending.writes.delete(writing);
    }
  }

  /** Checks that every operator shard the metadata lists wrote its snapshot, then writes the metadata in one synced batch. */
  async complete(metadata: CheckpointMetadata): Promise<void> {
    const id = metadata.id;
    const problem = metadataProblem(metadata, id);
    if (problem !== undefined) throw new CheckpointIncompleteError(id, problem);
    this.checkNewId(id);
    const pending = this.pending.get(id);
    if (this.aborted.has(id) || pending?.aborted) throw new CheckpointAbortedError(id);
    if (pending !== undefined && pending.writes.size > 0) {
      throw new CheckpointIncompleteError(id, "snapshots are still being written");
    }
    const { catalog } = this.ctx;
    for (const [uid, info] of Object.entries(metadata.operators)) {
      const manifests: ShardManifest[] = [];
      for (let shard = 0; shard < info.shards; shard++) {
        const manifest = catalog.manifest(id, uid, shard);
        if (manifest === undefined) {
          throw new CheckpointIncompleteError(id, `operator "${uid}" shard ${shard} has not written its snapshot`);
        }
        manifests.push(manifest);
      }
      const gap = coverageProblem(manifests, info.maxParallelism);
      if (gap !== undefined) throw new CheckpointIncompleteError(id, `operator "${uid}": ${gap}`);
    }
    for (const manifest of catalog.manifests.get(id)?.values() ?? []) {
      if (manifest.shardIndex >= (metadata.operators[manifest.uid]?.shards ?? 0)) {
        const what = `operator "${manifest.uid}" shard ${manifest.shardIndex} wrote a snapshot the metadata does not list`;
        throw new CheckpointIncompleteError(id, what);
      }
    }
    await withIoErrors(this.ctx.dir, "completing a checkpoint", () =>
      this.ctx.db.batch(
        [
          { type: "put", key: metadataKey(id), value: encodeStoreRecord(metadata) },
          { type: "put", key: settledKey(id), value: encodeStoreRecord(id) },
        ],
        { sync: true },
      ),
    );
    catalog.settled.add(id);
    catalog.metadata.set(id, metadata);
    this.pending.delete(id);
    // Ids below a completed one are refused anyway: no need to remember them as aborted.
    for (const aborted of this.aborted) if (aborted < id) this.aborted.delete(aborted);
  }

  async abort(id: number): Promise<void> {
    if (this.ctx.catalog.settled.has(id)) {
      throw new InvalidCheckpointRequestError(id, "completed checkpoints are not aborted (see discardNewerThan)");
    }
    this.aborted.add(id);
    await this.stop(id);
    await withIoErrors(this.ctx.dir, "aborting a checkpoint", () =>
      this.ctx.db.clear({ gte: checkpointStart(id), lt: checkpointEnd(id) }),
    );
    this.ctx.catalog.forget(id);
  }

  /** Stops the writes of checkpoints newer than `id` (they throw CheckpointAbortedError) and forgets them. */
  async stopNewerThan(id: number): Promise<void> {
    for (const newer of [...this.pending.keys()]) if (newer > id) await this.stop(newer);
    for (const aborted of this.aborted) if (aborted > id) this.aborted.delete(aborted);
  }

  /** Waits for every write in flight (used by close, after which they stop at their next chunk). */
  async settle(): Promise<void> {
    for (const pending of this.pending.values()) await Promise.allSettled(pending.writes);
  }

  private async stop(id: number): Promise<void> {
    const pending = this.pending.get(id);
    if (pending === undefined) return;
    pending.aborted = true;
    await Promise.allSettled(pending.writes);
    this.pending.delete(id);
  }

  private checkNewId(id: number): void {
    if (!Number.isInteger(id) || id < 1 || id > MAX_CHECKPOINT_ID) {
      throw new InvalidCheckpointRequestError(id, `checkpoint ids are integers in 1..${MAX_CHECKPOINT_ID}`);
    }
    let newest = 0;
    for (const settled of this.ctx.catalog.settled) newest = Math.max(newest, settled);
    if (id <= newest) throw new InvalidCheckpointRequestError(id, `checkpoint ${newest} is already completed`);
  }
}
