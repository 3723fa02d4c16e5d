import type { JobDefinition } from "@keyflow/functions-sdk";
import type { CheckpointMetadata } from "../checkpoint/checkpoint-storage.js";
import type { ShardCheckpointing } from "../checkpoint/shard-checkpointing.js";
import type { ShardHost } from "../node/shard-host.js";
import type { ExecutionPlan } from "../plan/execution-plan.js";
import { placeShard } from "../plan/placement.js";
import type { KeyedStateEntry, OperatorRestore } from "../state/snapshot.js";
import type { Clock } from "../time/clock.js";
import type { NatsLink } from "../transport/nats-link.js";
import {
  type CheckpointReply,
  type DownMessage,
  type ErrorReply,
  type KeyedPartReply,
  type OperatorStateReply,
  type RestoreRequest,
  shipReport,
  type UpMessage,
  unflattenEntries,
} from "./checkpoint-messages.js";
import { CheckpointLeaderUnreachableError } from "./errors.js";

export interface CheckpointFollowerOptions {
  readonly link: NatsLink;
  readonly node: number;
  readonly nodes: number;
  readonly job: JobDefinition;
  readonly plan: ExecutionPlan;
  readonly clock: Clock;
  /** How long to keep asking node 0 for the checkpoint to restore (it may start later), in ms. */
  readonly waitMs: number;
  readonly log: (message: string) => void;
}

const REQUEST_TIMEOUT_MS = 5_000;

/**
 * A node other than 0 in a static cluster's checkpoints: before its shards are built it asks
 * node 0 which checkpoint the job restores and fetches its shards' operator state (sources need
 * their splits synchronously); keyed state is fetched part by part while each shard restores.
 * It answers triggers and completions from node 0 and ships its shards' snapshots to it.
 */
export class CheckpointFollower {
  private host: ShardHost | undefined;
  private readonly subscriptions: Array<{ unsubscribe(): void }> = [];

  private constructor(
    private readonly options: CheckpointFollowerOptions,
    readonly restored: CheckpointMetadata | undefined,
    /** `${uid}/${shard}` -> the operator state and splits node 0 sent. */
    private readonly operatorState: Map<string, OperatorStateReply>,
  ) {}

  static async prepare(options: CheckpointFollowerOptions): Promise<CheckpointFollower> {
    const { link } = options;
    const ask = <T>(request: RestoreRequest) => askLeader<T>(link, request, REQUEST_TIMEOUT_MS);
    const restored = (await waitForLeader(options)).checkpoint ?? undefined;
    const operatorState = new Map<string, OperatorStateReply>();
    if (restored !== undefined) {
      options.log(`restoring from ${restored.kind} ${restored.id} (state from node 0)`);
      const graph = options.job.build();
      for (const vertex of options.plan.vertices) {
        for (let shard = 0; shard < vertex.parallelism; shard++) {
          if (placeShard(shard, options.nodes, 1).node !== options.node) continue;
          for (const operator of vertex.operators) {
            const uid = (graph.nodes[operator.id] as { uid: string }).uid;
            if (restored.operators[uid] === undefined) continue;
            const reply = await ask<OperatorStateReply>({
              type: "operatorState",
              uid,
              shardIndex: shard,
              parallelism: vertex.parallelism,
            });
            operatorState.set(`${uid}/${shard}`, reply);
          }
        }
      }
    }
    const follower = new CheckpointFollower(options, restored, operatorState);
    follower.subscriptions.push(
      link.subscribeValues<DownMessage>(link.subjects.checkpointDown, (message) => follower.hear(message)),
    );
    return follower;
  }

  get shardCheckpointing(): ShardCheckpointing {
    const { link, node } = this.options;
    const up = (message: UpMessage) => link.publishValue(link.subjects.checkpointUp, message);
    return {
      onSnapshot: (report) => shipReport(node, report, up),
      onAbandoned: (id, shard) => up({ type: "declined", node, id, reason: `shard ${shard} abandoned it` }),
      restoreFor: (uid, shardIndex, parallelism) => this.restoreFor(uid, shardIndex, parallelism),
      restoredSplits: (uid, shardIndex) => {
        if (this.restored?.operators[uid] === undefined) return undefined;
        return this.operatorState.get(`${uid}/${shardIndex}`)?.splits ?? [];
      },
    };
  }

  /** Takes part in checkpoints from now on (the host's shards are built). */
  start(host: ShardHost): void {
    this.host = host;
  }

  stop(): void {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
  }

  private hear(message: DownMessage): void {
    const host = this.host;
    const { link, node } = this.options;
    if (message.type === "trigger") {
      const started =
        host === undefined ? "later" : host.triggerCheckpoint(message.id, message.timestamp, message.savepoint);
      if (started !== true) {
        const reason = started === false ? "its sources finished" : "its sources are not running yet";
        link.publishValue(link.subjects.checkpointUp, { type: "declined", node, id: message.id, reason });
      }
      return;
    }
    void host?.notifyCheckpoint(message.id, message.completed);
  }

  private restoreFor(uid: string, shardIndex: number, parallelism: number): OperatorRestore | undefined {
    if (this.restored?.operators[uid] === undefined) return undefined;
    const { link } = this.options;
    const reply = this.operatorState.get(`${uid}/${shardIndex}`);
    const state = reply?.state ?? {};
    const versions = reply?.stateVersions;
    const keyedBatches: AsyncIterable<readonly KeyedStateEntry[]> = {
      async *[Symbol.asyncIterator]() {
        for (let part = 0; ; part++) {
          const reply = await askLeader<KeyedPartReply>(
            link,
            { type: "keyed", uid, shardIndex, parallelism, part },
            REQUEST_TIMEOUT_MS,
          );
          const batch: KeyedStateEntry[] = [];
          unflattenEntries(reply.entries, batch);
          yield batch;
          if (!reply.more) return;
        }
      },
    };
    const keyed: AsyncIterable<KeyedStateEntry> = {
      async *[Symbol.asyncIterator]() {
        for await (const batch of keyedBatches) yield* batch;
      },
    };
    return {
      keyed,
      keyedBatches,
      operatorState: state,
      ...(versions === undefined || versions === null ? {} : { stateVersions: versions }),
    };
  }
}

async function askLeader<T>(link: NatsLink, request: RestoreRequest, timeoutMs: number): Promise<T> {
  const reply = await link.request<T | ErrorReply>(link.subjects.checkpointRestore, request, timeoutMs);
  if (typeof reply === "object" && reply !== null && "error" in reply) {
    throw new Error(`node 0 could not answer a ${request.type} restore request: ${reply.error}`);
  }
  return reply as T;
}

/** Asks node 0 for the checkpoint to restore until it answers: it may start after this node. */
async function waitForLeader(options: CheckpointFollowerOptions): Promise<CheckpointReply> {
  const deadline = options.clock.now() + options.waitMs;
  let last: unknown;
  for (;;) {
    try {
      return await askLeader<CheckpointReply>(options.link, { type: "checkpoint" }, 1_000);
    } catch (error) {
      last = error;
    }
    if (options.clock.now() >= deadline) throw new CheckpointLeaderUnreachableError(options.waitMs, last);
    await options.clock.sleep(100);
  }
}
