import type { JobDefinition } from "@keyflow/functions-sdk";
import { CheckpointCoordinator, type CheckpointingOptions } from "../checkpoint/checkpoint-coordinator.js";
import type { CheckpointMetadata, CheckpointStorage } from "../checkpoint/checkpoint-storage.js";
import type { ShardCheckpointing } from "../checkpoint/shard-checkpointing.js";
import { CheckpointRestore, checkpointedOperators, latestRestorable } from "../coordinator/checkpoint-restore.js";
import type { ShardHost } from "../node/shard-host.js";
import type { ExecutionPlan } from "../plan/execution-plan.js";
import type { KeyedStateEntry } from "../state/snapshot.js";
import type { Clock } from "../time/clock.js";
import type { NatsLink } from "../transport/nats-link.js";
import {
  type CheckpointReply,
  type DownMessage,
  ENTRIES_PER_MESSAGE,
  flattenEntry,
  type KeyedPartReply,
  type OperatorStateReply,
  ReportAssembler,
  type RestoreRequest,
  type UpMessage,
} from "./checkpoint-messages.js";

export interface CheckpointLeaderOptions {
  readonly link: NatsLink;
  readonly job: JobDefinition;
  readonly plan: ExecutionPlan;
  readonly storage: CheckpointStorage;
  readonly checkpoints: CheckpointingOptions;
  readonly clock: Clock;
  readonly log: (message: string) => void;
}

/**
 * Node 0's part in a static cluster's checkpoints: it restores from its storage's latest usable
 * checkpoint and serves the other nodes the state their shards restore, runs the
 * CheckpointCoordinator over every shard of the job (its own report directly, the others' arrive
 * over NATS), and passes triggers and completions on to the other nodes.
 *
 * Lifecycle: `prepare` (before the host is built: sources take their splits when it is) ->
 * `start(host)` once every node joined -> `stop()`.
 */
export class CheckpointLeader {
  private coordinator: CheckpointCoordinator | undefined;
  private readonly assembler = new ReportAssembler();
  private readonly subscriptions: Array<{ unsubscribe(): void }> = [];
  /** Keyed entries being served to a restoring node, by operator and shard, read once. */
  private readonly serving = new Map<string, Promise<unknown[]>>();

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
    const from = await latestRestorable(options.storage, options.log);
    const graph = options.job.build();
    const uidOf = (nodeId: number) => (graph.nodes[nodeId] as { uid: string }).uid;
    let restore: CheckpointRestore | undefined;
    if (from !== undefined) {
      restore = await CheckpointRestore.load(options.storage, from, options.plan, uidOf);
      options.log(`restoring from ${from.kind} ${from.id}`);
    }
    const leader = new CheckpointLeader(options, from, restore, graph);
    const { link } = options;
    leader.subscriptions.push(
      link.serve(link.subjects.checkpointRestore, (request) => leader.answer(request as RestoreRequest)),
      link.subscribeValues<UpMessage>(link.subjects.checkpointUp, (message) => leader.hear(message)),
    );
    return leader;
  }

  /** How this node's shards take part: reports go to the coordinator, state comes from the restored checkpoint. */
  get shardCheckpointing(): ShardCheckpointing {
    return {
      onSnapshot: (report) => {
        if (this.coordinator !== undefined) this.coordinator.onSnapshot(report);
        else for (const snapshot of report.snapshots) snapshot.release();
      },
      onAbandoned: (id, shard) => this.coordinator?.onAbandoned(id, shard),
      restoreFor: (uid, shardIndex, parallelism) => this.restore?.restoreFor(uid, shardIndex, parallelism),
      restoredSplits: (uid, shardIndex) => this.restore?.restoredSplits(uid, shardIndex),
    };
  }

  /** Starts checkpointing the job once every node runs. */
  start(host: ShardHost): void {
    const { options, graph } = this;
    const { link } = options;
    const down = (message: DownMessage) => link.publishValue(link.subjects.checkpointDown, message);
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
      firstId: Math.max((this.restored?.id ?? 0) + 1, (options.storage.lastCheckpointId ?? 0) + 1),
      trigger: (id, timestamp, savepoint) => {
        const started = host.triggerCheckpoint(id, timestamp, savepoint);
        if (started === true) down({ type: "trigger", id, timestamp, savepoint });
        return started;
      },
      notify: (id, completed) => {
        this.assembler.forget(id);
        down({ type: "notify", id, completed });
        return host.notifyCheckpoint(id, completed);
      },
      log: options.log,
    });
    this.coordinator.start();
  }

  async stop(): Promise<void> {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    await this.coordinator?.stop();
  }

  private hear(message: UpMessage): void {
    switch (message.type) {
      case "entries":
        this.assembler.add(message);
        return;
      case "report": {
        const report = this.assembler.complete(message);
        this.coordinator?.onSnapshot(report);
        return;
      }
      case "declined":
        this.coordinator?.onAbandoned(message.id, `node ${message.node} (${message.reason})`);
        return;
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
