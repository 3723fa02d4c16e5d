import type { JobDefinition, OperatorNode } from "@keyflow/functions-sdk";
import type { ChannelReader, ChannelWriter, InputGate } from "../channel/channel.js";
import { DEFAULT_CHANNEL_CREDIT } from "../channel/channel.js";
import { LocalChannel } from "../channel/local-channel.js";
import type { ShardCheckpointing } from "../checkpoint/shard-checkpointing.js";
import { FEEDBACK_NETWORK } from "../handler/feedback-loop.js";
import type { FeedbackNetwork } from "../handler/feedback-network.js";
import { MailboxScheduler } from "../mailbox/mailbox-scheduler.js";
import type { ResultCollector } from "../operator/operator.js";
import { buildExecutionPlan, type ExecutionPlan, type PlanChannel, type PlanOptions } from "../plan/execution-plan.js";
import { placeShard, type ShardLocation, sameLocation } from "../plan/placement.js";
import { Shard } from "../shard/shard.js";
import type { Clock } from "../time/clock.js";
import { type SerializedError, serializeError } from "../util/serialized-error.js";

/** Makes the ends of channels whose other end is elsewhere (another thread, another node). */
export interface RemoteChannelFactory {
  writer(channel: PlanChannel, target: ShardLocation, credit: number): ChannelWriter;
  reader(channel: PlanChannel, source: ShardLocation, gate: InputGate, credit: number): ChannelReader;
}

export interface ShardHostOptions {
  readonly job: JobDefinition;
  readonly planOptions: PlanOptions;
  /** This thread's place. */
  readonly location: ShardLocation;
  readonly nodes: number;
  readonly threadsPerNode: number;
  readonly clock: Clock;
  readonly results: ResultCollector;
  readonly batchSize: number;
  readonly bufferTimeoutMs: number;
  readonly credit?: number;
  /** Channels to other threads of this process. */
  readonly crossThread?: RemoteChannelFactory;
  /** Channels to other nodes. */
  readonly crossNode?: RemoteChannelFactory;
  /** Checkpointing of this host's shards; undefined when the job takes no checkpoints. */
  readonly checkpointing?: ShardCheckpointing;
  /**
   * This host is one of several running the job (a worker thread): when its shards finished, the
   * job-finished actions wait for `finishJob()`, since another host may still fail and restore a
   * checkpoint older than what they would commit. Default false (run them at once).
   */
  readonly deferJobFinished?: boolean;
  /**
   * Links this thread to the others hosting shards of the job, for messages between per-key
   * functions (their feedback loops). Absent: a functions operator must have all its shards here.
   */
  readonly feedback?: FeedbackNetwork;
}

/**
 * Credit of a channel between two shards of one thread. Such a channel has no latency to hide, so
 * a short queue suffices, and it keeps the batches in flight small enough to stay in cache: on a
 * keyed sum at parallelism 2 on one thread, credit 2 instead of 8 measured 0–20% less CPU time
 * (this machine is too noisy to say more).
 */
const LOCAL_CHANNEL_CREDIT = 2;

/** What a host reports when its shards are done. */
export type HostOutcome = { readonly kind: "finished" } | { readonly kind: "failed"; readonly error: SerializedError };

/** The outcome of a job stopped from outside (Ctrl-C, an aborted signal). */
export const CANCELLED_OUTCOME: HostOutcome = Object.freeze({
  kind: "failed",
  error: Object.freeze({
    code: "JOB_CANCELLED",
    name: "JobCancelledError",
    message: "cancelled",
    stack: undefined,
    details: {},
  }),
});

/**
 * Hosts the shards placed on one thread: builds the plan (the same on every thread), creates
 * its shards with their own function instances, wires every channel that touches them, and
 * runs them on one mailbox scheduler. `run()` resolves when its shards finished or one failed.
 */
export class ShardHost {
  readonly plan: ExecutionPlan;
  readonly shards: Shard[] = [];
  readonly scheduler = new MailboxScheduler();
  private finished = 0;
  private settle: ((outcome: HostOutcome) => void) | undefined;
  private readonly outcome: Promise<HostOutcome>;
  private readonly closers: Array<() => void> = [];
  /** Objects the operators of this thread share (OperatorContext.threadShared). */
  private readonly threadShared = new Map<string, unknown>();

  /** The shards' view of checkpointing: the host's, noting which shard reported for which checkpoint. */
  private readonly checkpointing: ShardCheckpointing | undefined;

  constructor(private readonly options: ShardHostOptions) {
    const outer = options.checkpointing;
    this.checkpointing =
      outer === undefined
        ? undefined
        : {
            ...outer,
            onSnapshot: (report) => {
              this.noteReport(report.checkpointId, report.savepoint, report.vertexId, report.shardIndex);
              outer.onSnapshot(report);
            },
            restoreFor: (uid, shardIndex, parallelism) => outer.restoreFor(uid, shardIndex, parallelism),
            restoredSplits: (uid, shardIndex, parallelism) => outer.restoredSplits(uid, shardIndex, parallelism),
            restoredInFlight: (uid, shardIndex, parallelism) => outer.restoredInFlight?.(uid, shardIndex, parallelism),
            onAbandoned: (id, shardName) => outer.onAbandoned(id, shardName),
          };
    this.plan = buildExecutionPlan(options.job.build(), options.planOptions);
    this.outcome = new Promise((resolve) => {
      this.settle = resolve;
    });
    this.scheduler.onError = (runnable, error) => (runnable as Shard).fail(error);
    const feedback = options.feedback;
    if (feedback !== undefined) {
      // Before the shards: functions operators find it as they are built.
      this.threadShared.set(FEEDBACK_NETWORK, feedback);
      this.closers.push(() => feedback.close());
    }
    this.createShards();
  }

  private locationOf(shardIndex: number): ShardLocation {
    return placeShard(shardIndex, this.options.nodes, this.options.threadsPerNode);
  }

  private createShards(): void {
    const { plan, options } = this;
    const here = options.location;
    const byKey = new Map<string, Shard>();
    for (const vertex of plan.vertices) {
      for (let index = 0; index < vertex.parallelism; index++) {
        if (!sameLocation(this.locationOf(index), here)) continue;
        // Each shard builds the job anew, so the user's function objects are its own.
        const nodes: readonly OperatorNode[] = options.job.build().nodes;
        const shard = new Shard({
          plan,
          vertex,
          index,
          nodes,
          scheduler: this.scheduler,
          clock: options.clock,
          results: options.results,
          batchSize: options.batchSize,
          bufferTimeoutMs: options.bufferTimeoutMs,
          checkpointing: this.checkpointing,
          onJobFinished: (action) => this.jobFinishedActions.push(action),
          threadShared: this.threadShared,
          onFinished: (shard) => this.shardFinished(shard),
          onFailed: (_shard, error) => this.shardFailed(error),
        });
        this.shards.push(shard);
        byKey.set(`${vertex.id}.${index}`, shard);
      }
    }

    const credit = options.credit ?? DEFAULT_CHANNEL_CREDIT;
    const readers = new Map<Shard, ChannelReader[]>();
    const writers = new Map<Shard, ChannelWriter[][]>();
    for (const shard of this.shards) {
      readers.set(shard, new Array((plan.inputsOf[shard.vertex.id]?.[shard.index] ?? []).length));
      writers.set(
        shard,
        shard.vertex.outEdges.map(
          (_edge, slot) => new Array(plan.outputsOf[shard.vertex.id]?.[shard.index]?.[slot]?.length ?? 0),
        ),
      );
    }
    for (const channel of plan.channels) {
      const edge = plan.edges[channel.edge];
      if (edge === undefined) continue;
      const source = byKey.get(`${edge.sourceVertex}.${channel.sourceShard}`);
      const target = byKey.get(`${edge.targetVertex}.${channel.targetShard}`);
      if (source === undefined && target === undefined) continue;
      const slot = plan.vertices[edge.sourceVertex]?.outEdges.indexOf(edge) ?? -1;
      if (source !== undefined && target !== undefined) {
        const local = new LocalChannel(
          channel.id,
          target,
          channel.inputChannel,
          Math.min(credit, LOCAL_CHANNEL_CREDIT),
        );
        (writers.get(source) as ChannelWriter[][])[slot]![channel.outputSlot] = local;
        (readers.get(target) as ChannelReader[])[channel.inputChannel] = local;
        continue;
      }
      const sourceLocation = this.locationOf(channel.sourceShard);
      const targetLocation = this.locationOf(channel.targetShard);
      if (source !== undefined) {
        const factory = this.factoryFor(targetLocation);
        (writers.get(source) as ChannelWriter[][])[slot]![channel.outputSlot] = factory.writer(
          channel,
          targetLocation,
          credit,
        );
      } else if (target !== undefined) {
        const factory = this.factoryFor(sourceLocation);
        (readers.get(target) as ChannelReader[])[channel.inputChannel] = factory.reader(
          channel,
          sourceLocation,
          target,
          credit,
        );
      }
    }
    for (const shard of this.shards) shard.attach(readers.get(shard) ?? [], writers.get(shard) ?? []);
  }

  private factoryFor(other: ShardLocation): RemoteChannelFactory {
    const factory = other.node === this.options.location.node ? this.options.crossThread : this.options.crossNode;
    if (factory === undefined) {
      throw new Error(`no channel factory for a channel to node ${other.node} thread ${other.thread}`);
    }
    return factory;
  }

  /** Runs something when the host stops (closing links). */
  onClose(closer: () => void): void {
    this.closers.push(closer);
  }

  /** Starts every shard; resolves when all finished or one failed. */
  run(): Promise<HostOutcome> {
    if (this.shards.length === 0) this.settle?.({ kind: "finished" });
    for (const shard of this.shards) void shard.start();
    return this.outcome;
  }

  /**
   * Starts checkpoint `checkpointId` at this host's source shards. Returns false (and starts
   * nothing) when every one of them finished, unless `sourcesElsewhere` (the host is a follower:
   * other hosts' sources may still run), and "later" while one is still starting.
   */
  triggerCheckpoint(
    checkpointId: number,
    timestamp: number,
    savepoint: boolean,
    options: { readonly unaligned?: boolean; readonly sourcesElsewhere?: boolean } = {},
  ): boolean | "later" {
    const unaligned = options.unaligned === true;
    const sources = this.shards.filter((shard) => shard.isSource);
    const running = sources.filter((shard) => shard.canTriggerCheckpoint);
    const unfinished = sources.filter((shard) => shard.state !== "finished");
    // With every source finished there is nothing left to cut; a source still starting must wait.
    // A follower's host is one part of the job: sources on other threads or nodes may still run
    // and send barriers to its shards, so it takes part with what it has.
    if (unfinished.length === 0 && options.sourcesElsewhere !== true) return false;
    if (running.length !== unfinished.length) return "later";
    if (!this.pendingCheckpoints.has(checkpointId)) {
      this.pendingCheckpoints.set(checkpointId, { savepoint, unaligned, reported: new Set() });
    }
    for (const shard of running) shard.triggerCheckpoint(checkpointId, timestamp, savepoint, unaligned);
    // Shards that already finished report their final state now.
    for (const shard of this.shards) if (shard.state === "finished") this.reportFinished(shard, checkpointId);
    return true;
  }

  /** Checkpoints in flight, and which shards reported for each (finished shards report for them when they finish). */
  private readonly pendingCheckpoints = new Map<
    number,
    { savepoint: boolean; unaligned: boolean; reported: Set<Shard> }
  >();
  /** The newest checkpoint this host was told completed or aborted. */
  private highestNotified = 0;

  /** A shard reported for a checkpoint (through its ShardCheckpointing): remember it. */
  private noteReport(checkpointId: number, savepoint: boolean, vertexId: number, shardIndex: number): void {
    let pending = this.pendingCheckpoints.get(checkpointId);
    if (pending === undefined) {
      // A barrier from another thread or node can reach a shard here before this host hears the
      // trigger: remember the report, or the shard would report its final state again if it
      // finished while the checkpoint is pending (a second write of the same shard).
      if (checkpointId <= this.highestNotified) return;
      // Aligned or not makes no difference to a shard that finished: it has nothing in flight.
      pending = { savepoint, unaligned: false, reported: new Set() };
      this.pendingCheckpoints.set(checkpointId, pending);
    }
    const shard = this.shards.find((s) => s.vertex.id === vertexId && s.index === shardIndex);
    if (shard !== undefined) pending.reported.add(shard);
  }

  private reportFinished(shard: Shard, checkpointId: number): void {
    const pending = this.pendingCheckpoints.get(checkpointId);
    if (pending === undefined || pending.reported.has(shard)) return;
    shard.snapshotFinished(checkpointId, pending.savepoint, pending.unaligned);
  }

  /** Tells every shard checkpoint `checkpointId` completed or was aborted. */
  /** Resolves once every running shard handled it (a shard that stops meanwhile never does: do not await it then). */
  notifyCheckpoint(checkpointId: number, completed: boolean): Promise<void> {
    this.pendingCheckpoints.delete(checkpointId);
    this.highestNotified = Math.max(this.highestNotified, checkpointId);
    return Promise.all(this.shards.map((shard) => shard.notifyCheckpoint(checkpointId, completed))).then(() => {});
  }

  /** How many shards of this host report a snapshot per checkpoint. */
  get shardCount(): number {
    return this.shards.length;
  }

  cancel(): void {
    this.scheduler.stop();
    for (const shard of this.shards) shard.cancel();
    for (const closer of this.closers) closer();
  }

  private readonly jobFinishedActions: Array<() => void> = [];

  /**
   * Runs what waits for the end of the whole job (transactional sinks commit their last
   * transactions). Called by the host itself once its shards finished, or, with
   * `deferJobFinished`, by whoever knows every host finished. Throws what an action threw.
   */
  finishJob(): void {
    for (const action of this.jobFinishedActions.splice(0)) action();
  }

  private shardFinished(shard: Shard): void {
    // Checkpoints in flight that this shard never saw a barrier of get its final state.
    for (const id of this.pendingCheckpoints.keys()) this.reportFinished(shard, id);
    this.finished++;
    if (this.finished === this.shards.length) {
      try {
        if (this.options.deferJobFinished !== true) this.finishJob();
      } catch (error) {
        this.shardFailed(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      this.settle?.({ kind: "finished" });
    }
  }

  private shardFailed(error: Error): void {
    this.settle?.({ kind: "failed", error: serializeError(error) });
    this.settle = undefined;
    this.cancel();
  }
}
