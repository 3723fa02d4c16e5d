import type { JobDefinition } from "@keyflow/functions-sdk";
import { CheckpointCoordinator, type CheckpointingOptions } from "../checkpoint/checkpoint-coordinator.js";
import type { CheckpointMetadata, CheckpointStorage } from "../checkpoint/checkpoint-storage.js";
import type { ShardCheckpointing } from "../checkpoint/shard-checkpointing.js";
import type { ExecutionPlan } from "../plan/execution-plan.js";
import type { KeyedStateEntry } from "../state/snapshot.js";
import type { Clock } from "../time/clock.js";
import type { LeaderLink, LinkSubscription } from "./checkpoint-link.js";
import {
  type CheckpointReply,
  ENTRIES_PER_MESSAGE,
  flattenEntry,
  type KeyedPartReply,
  type OperatorStateReply,
  ReportAssembler,
  type RestoreRequest,
  type UpMessage,
} from "./checkpoint-messages.js";
import { CheckpointRestore, checkpointedOperators, latestRestorable } from "./checkpoint-restore.js";

/** What the leader and followers ask of the shards they host (a ShardHost is one). */
export interface CheckpointedShards {
  /**
   * True when started, "later" when a source is not running yet, false when every source
   * finished. `sourcesElsewhere`: other hosts' sources may still run, so a host whose own
   * sources finished (or that has none) takes part with its other shards instead of refusing.
   * `unaligned`: barriers overtake queued records, which the snapshot keeps.
   */
  triggerCheckpoint(
    checkpointId: number,
    timestamp: number,
    savepoint: boolean,
    options?: { readonly unaligned?: boolean; readonly sourcesElsewhere?: boolean },
  ): boolean | "later";
  /** Resolves once every running shard handled the notification. */
  notifyCheckpoint(checkpointId: number, completed: boolean): Promise<void>;
}

export interface CheckpointLeaderOptions {
  readonly link: LeaderLink;
  readonly job: JobDefinition;
  readonly plan: ExecutionPlan;
  readonly storage: CheckpointStorage;
  readonly checkpoints: CheckpointingOptions;
  readonly clock: Clock;
  readonly log: (message: string) => void;
  /**
   * How many followers acknowledge each completed checkpoint: a savepoint resolves once they all
   * did (or the leader stopped). Default 0 (do not wait).
   */
  readonly followers?: number;
  /**
   * What to restore. Default: the storage's latest usable checkpoint. Given, `from` (undefined: a
   * fresh start) is read from `storage` (default: the leader's storage; an exported savepoint's own).
   */
  readonly restore?: {
    readonly from: CheckpointMetadata | undefined;
    readonly storage?: CheckpointStorage;
    readonly allowNonRestoredState?: boolean;
  };
  /** The lowest checkpoint id to take (above every id an earlier run of this job took). Default 1. */
  readonly firstId?: number;
}

/**
 * The leader of a job's checkpoints: it restores from its storage's latest usable checkpoint (or
 * the one it is given) and serves the followers the state their shards restore, runs the
 * CheckpointCoordinator over every shard of the job (its own host's report directly when it has
 * one, the followers' over the link), and passes triggers and completions on to the followers.
 * Node 0 of a static cluster leads and hosts shards; the main thread of a worker pool leads and
 * hosts none (every shard is a follower's).
 *
 * Lifecycle: `prepare` (before any host is built: sources take their splits when it is) ->
 * `start(local?)` once every follower runs -> `stop()`.
 */
export class CheckpointLeader {
  private coordinator: CheckpointCoordinator | undefined;
  private readonly assembler = new ReportAssembler();
  private readonly subscriptions: LinkSubscription[] = [];
  /** Keyed entries being served to a restoring follower, by operator and shard, read once. */
  private readonly serving = new Map<string, Promise<unknown[]>>();
  /** Completed checkpoints waiting for the followers' acknowledgements. */
  private readonly acks = new Map<number, { count: number; done: () => void }>();
  private lastTriggered = 0;
  private stopped = false;

  private constructor(
    private readonly options: CheckpointLeaderOptions,
    readonly restored: CheckpointMetadata | undefined,
    private readonly restore: CheckpointRestore | undefined,
    private readonly graph: { readonly nodes: readonly unknown[]; readonly maxParallelism: number },
  ) {}

  private uidOf(nodeId: number): string {
    return (this.graph.nodes[nodeId] as { uid: string }).uid;
  }

  static async prepare(options: CheckpointLeaderOptions): Promise<CheckpointLeader> {
    const from =
      options.restore === undefined ? await latestRestorable(options.storage, options.log) : options.restore.from;
    const graph = options.job.build();
    const uidOf = (nodeId: number) => (graph.nodes[nodeId] as { uid: string }).uid;
    let restore: CheckpointRestore | undefined;
    if (from !== undefined) {
      restore = await CheckpointRestore.load(
        options.restore?.storage ?? options.storage,
        from,
        options.plan,
        uidOf,
        options.restore?.allowNonRestoredState,
      );
      options.log(`restoring from ${from.kind} ${from.id}${restore.inFlightNote}`);
    }
    const leader = new CheckpointLeader(options, from, restore, graph);
    const { link } = options;
    leader.subscriptions.push(
      link.serveRestore((request) => leader.answer(request)),
      link.subscribeUp((message) => leader.hear(message)),
    );
    return leader;
  }

  /** How the leader's own shards take part: reports go to the coordinator, state comes from the restored checkpoint. */
  get shardCheckpointing(): ShardCheckpointing {
    return {
      onSnapshot: (report) => {
        if (this.coordinator !== undefined) this.coordinator.onSnapshot(report);
        else for (const snapshot of report.snapshots) snapshot.release();
      },
      onAbandoned: (id, shard) => this.coordinator?.onAbandoned(id, shard),
      restoreFor: (uid, shardIndex, parallelism) => this.restore?.restoreFor(uid, shardIndex, parallelism),
      restoredSplits: (uid, shardIndex) => this.restore?.restoredSplits(uid, shardIndex),
      restoredInFlight: (uid, shardIndex) => this.restore?.restoredInFlight(uid, shardIndex),
    };
  }

  /** The highest checkpoint id this leader triggered (0: none). */
  get lastTriggeredId(): number {
    return this.lastTriggered;
  }

  /**
   * Starts checkpointing the job once every follower runs; `local` is the leader's own shards,
   * if it hosts any. Without them a trigger always goes down: a follower whose sources cannot
   * take it declines, which aborts that checkpoint.
   */
  start(local?: CheckpointedShards): CheckpointCoordinator {
    const { options, graph } = this;
    const { link } = options;
    let shards = 0;
    for (const vertex of options.plan.vertices) shards += vertex.parallelism;
    this.coordinator = new CheckpointCoordinator({
      ...options.checkpoints,
      storage: options.storage,
      clock: options.clock,
      jobName: options.job.name,
      maxParallelism: graph.maxParallelism,
      operators: checkpointedOperators(options.plan, (nodeId) => this.uidOf(nodeId), graph.maxParallelism),
      shards,
      firstId: Math.max(
        (this.restored?.id ?? 0) + 1,
        (options.storage.lastCheckpointId ?? 0) + 1,
        options.firstId ?? 1,
      ),
      trigger: (id, timestamp, savepoint, unaligned) => {
        // With followers, their sources may still run after this host's ended: it takes part with
        // its finished shards' final state instead of ending the job's checkpoints.
        const sourcesElsewhere = (this.options.followers ?? 0) > 0;
        const started =
          local === undefined
            ? true
            : local.triggerCheckpoint(id, timestamp, savepoint, { unaligned, sourcesElsewhere });
        if (started === true) {
          this.lastTriggered = Math.max(this.lastTriggered, id);
          link.publishDown({ type: "trigger", id, timestamp, savepoint, unaligned });
        }
        return started;
      },
      notify: (id, completed) => {
        this.assembler.forget(id);
        const acknowledged = completed ? this.awaitAcks(id) : Promise.resolve();
        link.publishDown({ type: "notify", id, completed });
        return Promise.all([local?.notifyCheckpoint(id, completed), acknowledged]).then(() => {});
      },
      log: options.log,
    });
    this.coordinator.start();
    return this.coordinator;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    // Followers that are gone never acknowledge: nothing may wait for them any more.
    for (const ack of this.acks.values()) ack.done();
    this.acks.clear();
    await this.coordinator?.stop();
  }

  private awaitAcks(id: number): Promise<void> {
    const followers = this.options.followers ?? 0;
    if (followers === 0 || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      this.acks.set(id, {
        count: 0,
        done: () => {
          this.acks.delete(id);
          resolve();
        },
      });
    });
  }

  private hear(message: UpMessage): void {
    switch (message.type) {
      case "entries":
        this.assembler.add(message);
        return;
      case "columns":
        this.assembler.addColumns(message);
        return;
      case "report": {
        const report = this.assembler.complete(message);
        this.coordinator?.onSnapshot(report);
        return;
      }
      case "declined":
        this.coordinator?.onAbandoned(message.id, `${message.from ?? `node ${message.node}`} (${message.reason})`);
        return;
      case "notified": {
        const ack = this.acks.get(message.id);
        if (ack !== undefined && ++ack.count >= (this.options.followers ?? 0)) ack.done();
        return;
      }
    }
  }

  private async answer(request: RestoreRequest): Promise<CheckpointReply | OperatorStateReply | KeyedPartReply> {
    switch (request.type) {
      case "checkpoint":
        return { checkpoint: this.restored ?? null };
      case "operatorState": {
        const restore = this.restore?.restoreFor(request.uid, request.shardIndex, request.parallelism);
        return {
          state: restore === undefined ? null : { ...restore.operatorState },
          splits: this.restore?.restoredSplits(request.uid, request.shardIndex) ?? null,
          stateVersions: restore?.stateVersions ?? null,
          inFlight: this.restore?.restoredInFlight(request.uid, request.shardIndex) ?? null,
        };
      }
      case "keyed": {
        const key = `${request.uid}/${request.shardIndex}/${request.parallelism}`;
        let flat = this.serving.get(key);
        if (flat === undefined) {
          flat = this.readKeyed(request.uid, request.shardIndex, request.parallelism);
          this.serving.set(key, flat);
        }
        const all = await flat;
        const from = request.part * ENTRIES_PER_MESSAGE * 5;
        const to = from + ENTRIES_PER_MESSAGE * 5;
        const more = to < all.length;
        if (!more) this.serving.delete(key);
        return { entries: all.slice(from, to), more };
      }
    }
  }

  private async readKeyed(uid: string, shardIndex: number, parallelism: number): Promise<unknown[]> {
    const restore = this.restore?.restoreFor(uid, shardIndex, parallelism);
    const flat: unknown[] = [];
    if (restore === undefined) return flat;
    if (restore.keyedBatches !== undefined) {
      for await (const batch of restore.keyedBatches) for (const entry of batch) flattenEntry(flat, entry);
    } else {
      for await (const entry of restore.keyed as AsyncIterable<KeyedStateEntry>) flattenEntry(flat, entry);
    }
    return flat;
  }
}
