import { type Actor, createActor } from "xstate";
import { STORE_FORMAT } from "../state/store/records.js";
import type { Clock } from "../time/clock.js";
import type { CheckpointMetadata, CheckpointStorage } from "./checkpoint-storage.js";
import { type CoordinatorState, coordinatorMachine } from "./coordinator-machine.js";
import { CheckpointFailedError, CheckpointRefusedError } from "./errors.js";
import type { ShardSnapshotReport } from "./shard-checkpointing.js";

export interface CheckpointingOptions {
  /** Time between the end of one checkpoint's trigger and the next, in ms. */
  readonly intervalMs: number;
  /** A checkpoint not complete after this long is aborted. Default 60 s. */
  readonly timeoutMs?: number;
  /** Least time between a completed checkpoint and the next trigger. Default 0. */
  readonly minPauseMs?: number;
  /** Checkpoints in flight at once. Default 1. */
  readonly maxConcurrent?: number;
  /**
   * Unaligned checkpoints (Flink's `enableUnalignedCheckpoints`), for backpressured jobs: a
   * barrier overtakes the records queued before it, the shard snapshots at the first barrier on
   * any input without waiting for the others, and the records it overtook are stored with the
   * checkpoint and replayed on recovery. Savepoints stay aligned. A checkpoint with in-flight
   * records restores only at the same parallelism. Default false.
   */
  readonly unaligned?: boolean;
}

export interface CheckpointCoordinatorOptions extends CheckpointingOptions {
  readonly storage: CheckpointStorage;
  readonly clock: Clock;
  readonly jobName: string;
  readonly maxParallelism: number;
  readonly operators: CheckpointMetadata["operators"];
  /** How many shard reports make a checkpoint complete (every shard of the job). */
  readonly shards: number;
  /** The first checkpoint id (one above the id restored from). */
  readonly firstId: number;
  /**
   * Starts a checkpoint at every running source: true when started, "later" when a source is not
   * ready yet (try at the next interval), false when every source has finished (no more checkpoints).
   * `unaligned` says which barriers the sources send (never for a savepoint).
   */
  readonly trigger: (
    checkpointId: number,
    timestamp: number,
    savepoint: boolean,
    unaligned: boolean,
  ) => boolean | "later";
  /** Tells every shard a checkpoint completed (true) or was aborted (false). */
  /** Tells every shard a checkpoint completed (true) or was aborted (false); resolves when they handled it. */
  readonly notify: (checkpointId: number, completed: boolean) => void | Promise<void>;
  /** Where the coordinator says what it does (state changes, completions, aborts). */
  readonly log?: (message: string) => void;
}

interface Pending {
  readonly id: number;
  readonly timestamp: number;
  readonly savepoint: boolean;
  reports: number;
  readonly writes: Array<Promise<void>>;
  /** Operators that wrote a snapshot. */
  readonly uids: Set<string>;
  readonly cancelTimeout: () => void;
  settle?: (metadata: CheckpointMetadata | undefined, error?: CheckpointFailedError) => void;
}

/**
 * Triggers checkpoints at an interval (Flink's CheckpointCoordinator): injects barriers at the
 * sources, gathers every shard's snapshot, has the storage write them (asynchronously, while
 * the job runs), and completes a checkpoint only when every shard reported and its metadata is
 * durably written; then tells the shards, so transactional sinks commit. A checkpoint that times
 * out, or whose writes fail, is aborted and cleaned up.
 */
export class CheckpointCoordinator {
  private readonly actor: Actor<typeof coordinatorMachine>;
  private readonly pending = new Map<number, Pending>();
  /** Resolves when `stop` begins: a savepoint stops waiting for shards that will not run again. */
  private stopping: () => void = () => {};
  private readonly stopped = new Promise<void>((resolve) => {
    this.stopping = resolve;
  });
  private nextId: number;
  private cancelTick: (() => void) | undefined;
  private lastCompletedAt = Number.NEGATIVE_INFINITY;
  private lastCompleted: CheckpointMetadata | undefined;

  constructor(private readonly options: CheckpointCoordinatorOptions) {
    this.nextId = options.firstId;
    this.actor = createActor(coordinatorMachine, { input: { maxConcurrent: options.maxConcurrent ?? 1 } });
    let previous: string | undefined;
    this.actor.subscribe((snapshot) => {
      const state = String(snapshot.value);
      if (state !== previous) options.log?.(`checkpoint coordinator: ${state}`);
      previous = state;
    });
  }

  /** The coordinator's state, as the job's status shows it. */
  get state(): CoordinatorState {
    return this.actor.getSnapshot().value as CoordinatorState;
  }

  /** Checkpoints (and savepoints) in flight now, completed and aborted since this coordinator started. */
  get counts(): { readonly inFlight: number; readonly completed: number; readonly aborted: number } {
    const { inFlight, completed, aborted } = this.actor.getSnapshot().context;
    return { inFlight, completed, aborted };
  }

  get latest(): CheckpointMetadata | undefined {
    return this.lastCompleted;
  }

  start(): void {
    this.actor.start();
    this.schedule(this.options.intervalMs);
  }

  /** Takes a savepoint now (outside the interval); resolves with its metadata when it is complete. */
  savepoint(): Promise<CheckpointMetadata> {
    return new Promise((resolve, reject) => {
      const started = this.begin(true, (metadata, error) =>
        metadata === undefined ? reject(error) : resolve(metadata),
      );
      if (!started) reject(new CheckpointRefusedError("savepoint", "a source has finished, or the job is stopping"));
    });
  }

  /** Takes a checkpoint now (outside the interval); resolves with its metadata when it is complete. */
  checkpointNow(): Promise<CheckpointMetadata> {
    return new Promise((resolve, reject) => {
      const started = this.begin(false, (metadata, error) =>
        metadata === undefined ? reject(error) : resolve(metadata),
      );
      if (!started) {
        reject(
          new CheckpointRefusedError("checkpoint", "one is in flight, a source has finished, or the job is stopping"),
        );
      }
    });
  }

  /** A shard took its snapshot (called on the shard's thread, synchronously). */
  onSnapshot(report: ShardSnapshotReport): void {
    const pending = this.pending.get(report.checkpointId);
    if (pending === undefined) {
      for (const snapshot of report.snapshots) snapshot.release();
      return;
    }
    for (const snapshot of report.snapshots) {
      pending.uids.add(snapshot.uid);
      pending.writes.push(
        this.options.storage.writeSnapshot(report.checkpointId, report.shardIndex, snapshot).then(() => {}),
      );
    }
    pending.reports++;
    if (pending.reports === this.options.shards) void this.finish(pending);
  }

  /** A shard abandoned a checkpoint (a newer barrier overtook it). */
  onAbandoned(checkpointId: number, shardName: string): void {
    const pending = this.pending.get(checkpointId);
    if (pending !== undefined) void this.abort(pending, new Error(`shard ${shardName} abandoned it`));
  }

  /** Stops triggering; checkpoints in flight are aborted (the job ended or restarts). */
  async stop(): Promise<void> {
    this.cancelTick?.();
    this.cancelTick = undefined;
    this.stopping();
    for (const pending of [...this.pending.values()]) await this.abort(pending, new Error("the job stopped"));
    await Promise.allSettled([...this.completing]);
    this.actor.send({ type: "STOP" });
  }

  /** Still taking checkpoints (neither stopped nor past the end of a source). */
  private isRunning(): boolean {
    const state = this.state;
    return state === "idle" || state === "checkpointing";
  }

  private schedule(delayMs: number): void {
    this.cancelTick?.();
    this.cancelTick = this.options.clock.schedule(delayMs, () => {
      this.cancelTick = undefined;
      this.tick();
    });
  }

  private tick(): void {
    if (!this.isRunning()) return;
    const sincePause = this.options.clock.now() - this.lastCompletedAt;
    const minPause = this.options.minPauseMs ?? 0;
    if (sincePause < minPause) {
      this.schedule(minPause - sincePause);
      return;
    }
    this.begin(false);
    if (this.isRunning()) this.schedule(this.options.intervalMs);
  }

  private begin(savepoint: boolean, settle?: Pending["settle"]): boolean {
    const event = savepoint ? ({ type: "SAVEPOINT" } as const) : ({ type: "TRIGGER" } as const);
    if (!this.actor.getSnapshot().can(event)) return false;
    const id = this.nextId;
    const timestamp = this.options.clock.now();
    const pending: Pending = {
      id,
      timestamp,
      savepoint,
      reports: 0,
      writes: [],
      uids: new Set(),
      cancelTimeout: this.options.clock.schedule(this.options.timeoutMs ?? 60_000, () => {
        void this.abort(pending, new Error(`it did not complete within ${this.options.timeoutMs ?? 60_000} ms`));
      }),
    };
    if (settle !== undefined) pending.settle = settle;
    this.pending.set(id, pending);
    const started = this.options.trigger(id, timestamp, savepoint, !savepoint && this.options.unaligned === true);
    if (started !== true) {
      this.pending.delete(id);
      pending.cancelTimeout();
      if (started === false) this.actor.send({ type: "SOURCES_FINISHED" });
      return false;
    }
    this.nextId++;
    this.actor.send(event);
    return true;
  }

  private async finish(pending: Pending): Promise<void> {
    try {
      await Promise.all(pending.writes);
    } catch (error) {
      await this.abort(pending, error);
      return;
    }
    // The commit point: from here the checkpoint completes or fails on its own; stop() waits for it.
    if (!this.pending.delete(pending.id)) return; // aborted while its snapshots were written
    pending.cancelTimeout();
    const completing = this.complete(pending);
    this.completing.add(completing);
    await completing;
    this.completing.delete(completing);
  }

  /** Completions in flight (stop() lets them settle, so a restart sees the storage as it ends up). */
  private readonly completing = new Set<Promise<void>>();

  private async complete(pending: Pending): Promise<void> {
    // Operators that wrote state (stateless ones report nothing and are left out).
    const operators: Record<string, CheckpointMetadata["operators"][string]> = {};
    for (const uid of pending.uids) {
      const info = this.options.operators[uid];
      if (info !== undefined) operators[uid] = info;
    }
    const metadata: CheckpointMetadata = {
      id: pending.id,
      kind: pending.savepoint ? "savepoint" : "checkpoint",
      timestamp: pending.timestamp,
      jobName: this.options.jobName,
      maxParallelism: this.options.maxParallelism,
      operators,
      format: STORE_FORMAT,
    };
    try {
      await this.options.storage.complete(metadata);
    } catch (error) {
      this.actor.send({ type: "ABORTED" });
      const reason = `its metadata could not be written (${String(error)})`;
      this.options.log?.(`checkpoint ${pending.id} aborted: ${reason}`);
      void this.options.notify(pending.id, false);
      await this.options.storage.abort(pending.id).catch(() => {});
      pending.settle?.(undefined, new CheckpointFailedError(pending.id, kindOf(pending), reason, { cause: error }));
      return;
    }
    this.lastCompleted = metadata;
    this.lastCompletedAt = this.options.clock.now();
    this.actor.send({ type: "COMPLETED" });
    this.options.log?.(`checkpoint ${pending.id} complete`);
    const notified = this.options.notify(pending.id, true);
    // A savepoint resolves once the shards handled its completion (sinks committed up to it),
    // so stop-with-savepoint can stop right after.
    // A shard that stops (the job finished or was cancelled) before it handled the notification
    // never answers; the savepoint is durable by then, so it settles when the coordinator stops
    // (else stop(), which waits for completions, and the run with it, would never end).
    if (pending.settle !== undefined) {
      await Promise.race([notified, this.stopped]);
      pending.settle(metadata);
    }
  }

  private async abort(pending: Pending, reason: unknown): Promise<void> {
    if (!this.pending.delete(pending.id)) return;
    pending.cancelTimeout();
    this.actor.send({ type: "ABORTED" });
    const why = reason instanceof Error ? reason.message : String(reason);
    this.options.log?.(`checkpoint ${pending.id} aborted: ${why}`);
    void this.options.notify(pending.id, false);
    await Promise.allSettled(pending.writes);
    await this.options.storage.abort(pending.id).catch(() => {});
    pending.settle?.(undefined, new CheckpointFailedError(pending.id, kindOf(pending), why, { cause: reason }));
  }
}

function kindOf(pending: Pending): "checkpoint" | "savepoint" {
  return pending.savepoint ? "savepoint" : "checkpoint";
}
