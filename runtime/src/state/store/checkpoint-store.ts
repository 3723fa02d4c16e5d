import { mkdir, readdir } from "node:fs/promises";
import type { KeyflowError } from "@keyflow/functions-sdk";
import type { KeyGroupRange } from "../../partition/key-groups.js";
import type { InFlightBatch, KeyedStateEntry, OperatorSnapshot } from "../snapshot.js";
import { BlockEncoder } from "./block-encoder.js";
import { CheckpointWrites } from "./checkpoint-writes.js";
import { compact } from "./compaction.js";
import { type CheckpointDescription, describeCheckpoint } from "./describe.js";
import {
  CheckpointDamagedError,
  CheckpointNotFoundError,
  InvalidCheckpointRequestError,
  KeyGroupOutOfRangeError,
  OperatorNotInCheckpointError,
  StoreIoError,
} from "./errors.js";
import { readKeyedBatches } from "./keyed-reader.js";
import { ALL_CHECKPOINTS_END, checkpointStart, manifestKey, metadataKey } from "./keys.js";
import { distributeOperatorState } from "./operator-state.js";
import type { CheckpointMetadata } from "./records.js";
import { collectGarbage } from "./retention.js";
import { exportSavepoint } from "./savepoint-export.js";
import type { ShardWrite } from "./snapshot-writer.js";
import { type StoreContext, withIoErrors } from "./store-context.js";
import { closedStore, type LevelDbOptions, openStore } from "./store-open.js";
import { type VerifyLevel, verifyCheckpoint } from "./verify.js";

export interface CheckpointStoreOptions {
  /** Completed checkpoints (kind "checkpoint") kept; savepoints are kept besides. Default 3. */
  readonly retain?: number;
  /** Most entries in a block of a key group. Default 1024. */
  readonly blockEntries?: number;
  /** Bytes a block aims at (blocks of large values hold fewer entries). Default 256 KiB. */
  readonly blockBytes?: number;
  /** Entries read from a snapshot between writes or yields to the event loop. Default 1000. */
  readonly chunkEntries?: number;
  /** A key group is compacted when its changes since its base reach this fraction of the base's bytes. Default 1. */
  readonly compactionRatio?: number;
  /** ...or when its chain has more records than this. Default 32. */
  readonly maxChainLength?: number;
  /**
   * Encode state that a snapshot copied at its mark (large tables of numbers and strings) on a
   * thread of the store's own, off the shard's thread. Default true; false encodes it like every
   * other entry, in the writer's chunks (what a store on a thread without workers must do).
   */
  readonly encoderThread?: boolean;
  /** When LevelDB cannot read its files at open: "auto" runs LevelDB's repair, "never" fails. Default "auto". */
  readonly repair?: "auto" | "never";
  readonly leveldb?: LevelDbOptions;
}

/** What a shard's snapshot wrote. */
export interface WrittenSnapshot {
  readonly entries: number;
  readonly bytes: number;
  readonly blocks: number;
}

/** The newest checkpoint that passed verification, and everything found wrong on the way (to log). */
export interface UsableCheckpoint {
  readonly checkpoint: CheckpointMetadata | undefined;
  readonly damage: readonly KeyflowError[];
}

/**
 * The durable checkpoint store of one job: one LevelDB folder (`--state-dir DIR`). Shards write
 * their snapshots into it while processing goes on; the coordinator completes or aborts a
 * checkpoint; recovery reads the newest usable one back, at any parallelism.
 *
 * Guarantees:
 * - A checkpoint is visible (to `latestCompleted`, `completed`, restores) only after `complete`
 *   wrote its metadata in one synced LevelDB batch; never-completed and aborted checkpoints are
 *   never returned, and what they wrote is removed (at abort, or at the next open after a crash).
 * - Incremental: a snapshot writes only its entries, so an incremental checkpoint costs its
 *   changes; restoring checkpoint c gives, per (state, key), the newest value written by a
 *   completed checkpoint <= c since the key group's last full snapshot, and hides deleted keys.
 * - Retention keeps the newest `retain` checkpoints and every savepoint, and deletes what none of
 *   them reads, from its in-memory catalog (no scan of the state).
 * - Damage (a record that fails its checksum, missing blocks, unreadable LevelDB files) is
 *   reported by checkpoint id; `latestUsable` falls back to the previous completed checkpoint.
 *
 * Calls come from one thread (the coordinator's); writes of several shards may run concurrently.
 *
 * @example
 * const store = await CheckpointStore.open(dir, { retain: 3 });
 * await store.writeSnapshot(7, 0, operator.snapshot(7, "incremental"));
 * await store.complete({ id: 7, kind: "checkpoint", timestamp, jobName, maxParallelism: 128, operators, format: 3 });
 * const { checkpoint, damage } = await store.latestUsable();
 * for await (const entry of store.restoreKeyed(checkpoint.id, "counts", range)) backend.load(entry);
 */
export class CheckpointStore {
  private readonly writes: CheckpointWrites;
  private readonly leases = new Map<number, number>();
  private maintenance: Promise<void> = Promise.resolve();
  private readonly maintenanceErrors: Error[] = [];
  private closing = false;

  private constructor(
    private readonly ctx: StoreContext,
    /** What `open` found wrong (records that do not parse, a LevelDB repair), to log. */
    readonly openDamage: readonly KeyflowError[],
  ) {
    this.writes = new CheckpointWrites(ctx, () => this.closing);
  }

  /** Opens (or creates) the store in `dir`, finishing any retention a crash interrupted. */
  static async open(dir: string, options: CheckpointStoreOptions = {}): Promise<CheckpointStore> {
    await mkdir(dir, { recursive: true });
    const encoderThread = options.encoderThread !== false;
    // The encoder's thread writes through a handle of its own: LevelDB shared between threads.
    const leveldb = encoderThread ? { ...options.leveldb, multithreading: true } : (options.leveldb ?? {});
    const { db, catalog, damage } = await openStore(dir, options.repair ?? "auto", leveldb);
    const store = new CheckpointStore(
      {
        dir,
        db,
        catalog,
        options: {
          retain: positive(options.retain ?? 3, "retain"),
          blockEntries: positive(options.blockEntries ?? 1024, "blockEntries"),
          blockBytes: positive(options.blockBytes ?? 256 * 1024, "blockBytes"),
          chunkEntries: positive(options.chunkEntries ?? 1000, "chunkEntries"),
          compactionRatio: options.compactionRatio ?? 1,
          maxChainLength: positive(options.maxChainLength ?? 32, "maxChainLength"),
        },
        ...(encoderThread ? { encoder: new BlockEncoder({ writeTo: dir }) } : {}),
      },
      damage,
    );
    // Finish what a crash interrupted before anything reads; compaction waits for the next complete.
    store.scheduleMaintenance(false);
    await store.maintenance;
    return store;
  }

  get dir(): string {
    return this.ctx.dir;
  }

  /**
   * Writes one shard's snapshot of checkpoint `checkpointId` and releases the snapshot (also on
   * failure). Reads `snapshot.keyed` in chunks, yielding to the event loop between them.
   */
  async writeSnapshot(checkpointId: number, shardIndex: number, snapshot: OperatorSnapshot): Promise<WrittenSnapshot> {
    try {
      const { manifest } = await this.writeShard({
        id: checkpointId,
        uid: snapshot.uid,
        shardIndex,
        mode: snapshot.mode,
        keyGroups: snapshot.keyGroups,
        keyed: snapshot.keyed,
        ...(snapshot.columnar === undefined ? {} : { columnar: snapshot.columnar }),
        operatorState: snapshot.operatorState,
        stateVersions: snapshot.stateVersions,
        inFlight: snapshot.inFlight,
      });
      return { entries: manifest.entries, bytes: manifest.bytes, blocks: manifest.blocks };
    } finally {
      snapshot.release();
    }
  }

  private async writeShard(write: ShardWrite) {
    this.checkOpen();
    return this.writes.write(write);
  }

  /**
   * Makes checkpoint `metadata.id` visible: checks every operator shard the metadata lists has
   * written its snapshot, then writes the metadata in one synced batch. Retention and compaction
   * then run in the background (`idle()` waits for them).
   */
  async complete(metadata: CheckpointMetadata): Promise<void> {
    this.checkOpen();
    await this.writes.complete(metadata);
    this.scheduleMaintenance();
  }

  /** Drops what checkpoint `checkpointId` wrote; writes still running stop and release their snapshots. */
  async abort(checkpointId: number): Promise<void> {
    this.checkOpen();
    await this.writes.abort(checkpointId);
  }

  /**
   * Removes every checkpoint (completed, savepoint or not) newer than `checkpointId`. Call it after
   * restoring `checkpointId` when newer ones exist (a fall back past damaged checkpoints), so
   * that checkpoints taken from now on do not build on state the job no longer has.
   */
  async discardNewerThan(checkpointId: number): Promise<number[]> {
    this.checkOpen();
    const { catalog } = this.ctx;
    await this.writes.stopNewerThan(checkpointId);
    await this.maintenance;
    const newer = [...new Set([...catalog.settled, ...catalog.manifests.keys()])]
      .filter((id) => id > checkpointId)
      .sort((a, b) => a - b);
    await withIoErrors(this.ctx.dir, "discarding checkpoints", () =>
      this.ctx.db.clear({ gte: checkpointStart(checkpointId + 1), lt: ALL_CHECKPOINTS_END }),
    );
    for (const id of newer) catalog.forget(id);
    return newer;
  }

  /** Lets retention delete savepoint `checkpointId` (and what only it reads). */
  async dropSavepoint(checkpointId: number): Promise<void> {
    const metadata = this.metadataOf(checkpointId);
    if (metadata.kind !== "savepoint") throw new InvalidCheckpointRequestError(checkpointId, "is not a savepoint");
    const ops = [{ type: "del" as const, key: metadataKey(checkpointId) }];
    for (const manifest of this.ctx.catalog.manifests.get(checkpointId)?.values() ?? []) {
      ops.push({ type: "del", key: manifestKey(checkpointId, manifest.uid, manifest.shardIndex) });
    }
    await withIoErrors(this.ctx.dir, "dropping a savepoint", () => this.ctx.db.batch(ops));
    this.ctx.catalog.metadata.delete(checkpointId);
    this.ctx.catalog.manifests.delete(checkpointId);
    this.scheduleMaintenance();
  }

  /** The newest completed checkpoint or savepoint, or undefined. Checks nothing beyond its metadata parsing. */
  latestCompleted(): CheckpointMetadata | undefined {
    const [newest] = this.ctx.catalog.completedIds();
    return newest === undefined ? undefined : this.ctx.catalog.metadata.get(newest);
  }

  /** Every completed checkpoint and savepoint that can be restored, newest first. */
  completed(): CheckpointMetadata[] {
    return this.ctx.catalog.completedIds().map((id) => this.ctx.catalog.metadata.get(id) as CheckpointMetadata);
  }

  /** The highest checkpoint id this store holds or is writing (0 when empty): a new checkpoint takes a higher one. */
  get lastCheckpointId(): number {
    return Math.max(this.ctx.catalog.highestId(), this.writes.highestId);
  }

  /**
   * The newest completed checkpoint that verifies at `verify` level ("data" by default: every
   * block read and checked), falling back to older ones; with the damage found, open's included.
   */
  async latestUsable(options: { verify?: VerifyLevel } = {}): Promise<UsableCheckpoint> {
    const damage: KeyflowError[] = [...this.openDamage];
    for (const metadata of this.completed()) {
      const found = await this.verify(metadata.id, options.verify ?? "data");
      if (found.length === 0) return { checkpoint: metadata, damage };
      damage.push(...found);
    }
    return { checkpoint: undefined, damage };
  }

  /** The damage found in completed checkpoint `checkpointId` (empty: it can be restored). */
  async verify(checkpointId: number, level: VerifyLevel = "data"): Promise<CheckpointDamagedError[]> {
    const metadata = this.metadataOf(checkpointId);
    return this.withLease(checkpointId, () => verifyCheckpoint(this.ctx, metadata, level));
  }

  /**
   * The keyed state of operator `uid` at checkpoint `checkpointId` for key groups `range` (a
   * shard's range at any parallelism), one entry per live (state, key), key group by key group.
   * Errors (a checkpoint that is not completed, an unknown operator) surface when iteration
   * starts; damage (CheckpointDamagedError) when the read meets it, possibly after some entries:
   * the caller then drops what it restored and falls back (`latestUsable` finds damage first).
   */
  async *restoreKeyed(checkpointId: number, uid: string, range: KeyGroupRange): AsyncGenerator<KeyedStateEntry> {
    for await (const batch of this.restoreKeyedBatches(checkpointId, uid, range)) yield* batch;
  }

  /** The same entries in batches (one per block read): one promise per batch instead of per entry. */
  async *restoreKeyedBatches(
    checkpointId: number,
    uid: string,
    range: KeyGroupRange,
  ): AsyncGenerator<readonly KeyedStateEntry[]> {
    this.checkOpen();
    const info = this.metadataOf(checkpointId).operators[uid];
    if (info === undefined) throw new OperatorNotInCheckpointError(checkpointId, uid);
    for (const keyGroup of [range.start, range.end]) {
      if (!Number.isInteger(keyGroup) || keyGroup < 0 || keyGroup >= info.maxParallelism || range.end < range.start) {
        throw new KeyGroupOutOfRangeError(checkpointId, uid, keyGroup, `0..${info.maxParallelism - 1}`);
      }
    }
    yield* readKeyedBatches(this.ctx, checkpointId, uid, range, true);
  }

  /**
   * Operator list state of `uid` for shard `shardIndex` of `parallelism`: "split" lists dealt out
   * in contiguous slices (each shard's own items when the parallelism is unchanged), "union"
   * lists whole (see distributeOperatorState). Names are those any old shard wrote.
   */
  restoreOperatorState(
    checkpointId: number,
    uid: string,
    shardIndex: number,
    parallelism: number,
  ): Record<string, unknown[]> {
    const info = this.metadataOf(checkpointId).operators[uid];
    if (info === undefined) throw new OperatorNotInCheckpointError(checkpointId, uid);
    const manifests = [];
    for (let shard = 0; shard < info.shards; shard++) {
      const manifest = this.ctx.catalog.manifest(checkpointId, uid, shard);
      if (manifest === undefined) {
        throw new CheckpointDamagedError(checkpointId, `the manifest of shard ${shard} is missing`, uid);
      }
      manifests.push(manifest);
    }
    return distributeOperatorState(checkpointId, uid, manifests, shardIndex, parallelism);
  }

  /**
   * The records in flight into shard `shardIndex` of operator `uid` at unaligned checkpoint
   * `checkpointId`, in the order to replay them; empty for an aligned one or an older format.
   */
  restoreInFlight(checkpointId: number, uid: string, shardIndex: number): readonly InFlightBatch[] {
    return this.ctx.catalog.manifest(checkpointId, uid, shardIndex)?.inFlight ?? [];
  }

  /**
   * The version each keyed state of operator `uid` was stored at in checkpoint `checkpointId`,
   * from its shards' manifests; undefined for a checkpoint of format 1 (every state at version 1).
   * Shards that disagree (which one job never writes) are damage.
   */
  restoreStateVersions(checkpointId: number, uid: string): Record<string, number> | undefined {
    const info = this.metadataOf(checkpointId).operators[uid];
    if (info === undefined) throw new OperatorNotInCheckpointError(checkpointId, uid);
    let versions: Record<string, number> | undefined;
    for (let shard = 0; shard < info.shards; shard++) {
      const stored = this.ctx.catalog.manifest(checkpointId, uid, shard)?.stateVersions;
      if (stored === undefined) continue;
      versions ??= {};
      for (const [state, version] of Object.entries(stored)) {
        if ((versions[state] ?? version) !== version) {
          const problem = `shards stored state "${state}" at versions ${versions[state]} and ${version}`;
          throw new CheckpointDamagedError(checkpointId, problem, uid);
        }
        versions[state] = version;
      }
    }
    return versions;
  }

  /** What checkpoint `checkpointId` holds: operators, key groups, keys per state (counted by reading it), bytes. */
  async describe(checkpointId: number): Promise<CheckpointDescription> {
    const metadata = this.metadataOf(checkpointId);
    return this.withLease(checkpointId, () => describeCheckpoint(this.ctx, metadata));
  }

  /**
   * Writes a self-contained FULL copy of checkpoint `checkpointId` into a new store in `dir` (which
   * must be missing or empty) as a savepoint with the same id: `CheckpointStore.open(dir)` lists
   * that one savepoint and restores it at any parallelism.
   */
  async exportSavepoint(checkpointId: number, dir: string): Promise<void> {
    const metadata = this.metadataOf(checkpointId);
    const existing = await readdir(dir).catch(() => []);
    if (existing.length > 0) throw new InvalidCheckpointRequestError(checkpointId, `export folder ${dir} is not empty`);
    const target = await CheckpointStore.open(dir, { retain: 1 });
    try {
      await this.withLease(checkpointId, () =>
        exportSavepoint(this.ctx, metadata, {
          writeShard: async (write) => {
            await target.writeShard(write);
          },
          complete: (copy) => target.complete(copy),
        }),
      );
    } finally {
      await target.close();
    }
  }

  /** Waits for background retention and compaction; returns what they met (damage, LevelDB errors) since the last call. */
  async idle(): Promise<Error[]> {
    await this.maintenance;
    return this.maintenanceErrors.splice(0);
  }

  /** Stops writes in progress (they throw CheckpointAbortedError), waits for maintenance, closes LevelDB. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await this.writes.settle();
    await this.maintenance;
    await this.ctx.encoder?.close();
    try {
      await this.ctx.db.close();
    } finally {
      closedStore(this.ctx.dir);
    }
  }

  /** Queues a retention pass (and compaction, then another pass for what it replaced); one runs at a time. */
  private scheduleMaintenance(compaction = true): void {
    const leased = () => [...this.leases.keys()];
    this.maintenance = this.maintenance.then(async () => {
      if (this.closing) return;
      try {
        await collectGarbage(this.ctx, leased());
        if (!compaction) return;
        const damage = await compact(this.ctx, leased(), () => this.closing);
        this.maintenanceErrors.push(...damage);
        await collectGarbage(this.ctx, leased());
      } catch (error) {
        this.maintenanceErrors.push(error as Error);
      }
    });
  }

  private async withLease<T>(id: number, action: () => Promise<T>): Promise<T> {
    this.leases.set(id, (this.leases.get(id) ?? 0) + 1);
    try {
      return await action();
    } finally {
      const left = (this.leases.get(id) ?? 1) - 1;
      if (left === 0) this.leases.delete(id);
      else this.leases.set(id, left);
    }
  }

  private metadataOf(id: number): CheckpointMetadata {
    const metadata = this.ctx.catalog.metadata.get(id);
    if (metadata === undefined) throw new CheckpointNotFoundError(id);
    return metadata;
  }

  private checkOpen(): void {
    if (this.closing) throw new StoreIoError(this.ctx.dir, "using the store", { cause: new Error("it is closed") });
  }
}

function positive(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}
