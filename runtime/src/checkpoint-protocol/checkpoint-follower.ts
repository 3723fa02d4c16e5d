import type { JobDefinition } from "@keyflow/functions-sdk";
import type { CheckpointMetadata } from "../checkpoint/checkpoint-storage.js";
import type { ShardCheckpointing } from "../checkpoint/shard-checkpointing.js";
import type { ExecutionPlan } from "../plan/execution-plan.js";
import { placeShard, type ShardLocation, sameLocation } from "../plan/placement.js";
import type { KeyedStateEntry, OperatorRestore } from "../state/snapshot.js";
import type { Clock } from "../time/clock.js";
import type { CheckpointedShards } from "./checkpoint-leader.js";
import type { FollowerLink, LinkSubscription } from "./checkpoint-link.js";
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
import { CheckpointLeaderUnreachableError, RestoreRequestError } from "./errors.js";

export interface CheckpointFollowerOptions {
  readonly link: FollowerLink;
  /** This follower's id in up messages (a node id, or a worker thread's index). */
  readonly id: number;
  /** How this follower and its leader are named in declines, logs and errors ("node 2", "node 0"). */
  readonly name: string;
  readonly leaderName: string;
  /** Where this follower's shards are: the shards placed here are the ones it restores. */
  readonly location: ShardLocation;
  readonly nodes: number;
  readonly threadsPerNode: number;
  readonly job: JobDefinition;
  readonly plan: ExecutionPlan;
  readonly clock: Clock;
  /** How long to keep asking the leader for the checkpoint to restore (it may start later), in ms. */
  readonly waitMs: number;
  readonly log: (message: string) => void;
}

const REQUEST_TIMEOUT_MS = 5_000;

/**
 * A follower in a job's checkpoints (a node other than 0 of a static cluster, or a worker
 * thread): before its shards are built it asks the leader which checkpoint the job restores and
 * fetches its shards' operator state (sources need their splits synchronously); keyed state is
 * fetched part by part while each shard restores. It answers triggers and completions from the
 * leader (acknowledging completions once its shards handled them) and ships its shards'
 * snapshots to it.
 *
 * Lifecycle: `prepare` -> `start(host)` once the host's shards are built -> `stop()`.
 */
export class CheckpointFollower {
  private host: CheckpointedShards | undefined;
  private readonly subscriptions: LinkSubscription[] = [];

  private constructor(
    private readonly options: CheckpointFollowerOptions,
    readonly restored: CheckpointMetadata | undefined,
    /** `${uid}/${shard}` -> the operator state and splits the leader sent. */
    private readonly operatorState: Map<string, OperatorStateReply>,
  ) {}

  static async prepare(options: CheckpointFollowerOptions): Promise<CheckpointFollower> {
    const ask = <T>(request: RestoreRequest) => askLeader<T>(options, request, REQUEST_TIMEOUT_MS);
    const restored = (await waitForLeader(options)).checkpoint ?? undefined;
    const operatorState = new Map<string, OperatorStateReply>();
    if (restored !== undefined) {
      options.log(`restoring from ${restored.kind} ${restored.id} (state from ${options.leaderName})`);
      const graph = options.job.build();
      for (const vertex of options.plan.vertices) {
        for (let shard = 0; shard < vertex.parallelism; shard++) {
          const location = placeShard(shard, options.nodes, options.threadsPerNode);
          if (!sameLocation(location, options.location)) continue;
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
    follower.subscriptions.push(options.link.subscribeDown((message) => follower.hear(message)));
    return follower;
  }

  get shardCheckpointing(): ShardCheckpointing {
    const { link, id, name } = this.options;
    const up = (message: UpMessage) => link.publishUp(message);
    return {
      onSnapshot: (report) => shipReport(id, report, up),
      onAbandoned: (checkpointId, shard) =>
        up({ type: "declined", node: id, from: name, id: checkpointId, reason: `shard ${shard} abandoned it` }),
      restoreFor: (uid, shardIndex, parallelism) => this.restoreFor(uid, shardIndex, parallelism),
      restoredSplits: (uid, shardIndex) => {
        if (this.restored?.operators[uid] === undefined) return undefined;
        return this.operatorState.get(`${uid}/${shardIndex}`)?.splits ?? [];
      },
      restoredInFlight: (uid, shardIndex) => this.operatorState.get(`${uid}/${shardIndex}`)?.inFlight ?? undefined,
    };
  }

  /** Takes part in checkpoints from now on (the host's shards are built). */
  start(host: CheckpointedShards): void {
    this.host = host;
  }

  stop(): void {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
  }

  private hear(message: DownMessage): void {
    const host = this.host;
    const { link, id, name } = this.options;
    if (message.type === "trigger") {
      const started =
        host === undefined
          ? "later"
          : host.triggerCheckpoint(message.id, message.timestamp, message.savepoint, {
              unaligned: message.unaligned === true,
              sourcesElsewhere: true,
            });
      if (started !== true) {
        const reason = started === false ? "its sources finished" : "its sources are not running yet";
        link.publishUp({ type: "declined", node: id, from: name, id: message.id, reason });
      }
      return;
    }
    const handled = host?.notifyCheckpoint(message.id, message.completed) ?? Promise.resolve();
    if (message.completed) void handled.then(() => link.publishUp({ type: "notified", node: id, id: message.id }));
  }

  private restoreFor(uid: string, shardIndex: number, parallelism: number): OperatorRestore | undefined {
    if (this.restored?.operators[uid] === undefined) return undefined;
    const options = this.options;
    const reply = this.operatorState.get(`${uid}/${shardIndex}`);
    const state = reply?.state ?? {};
    const versions = reply?.stateVersions;
    const keyedBatches: AsyncIterable<readonly KeyedStateEntry[]> = {
      async *[Symbol.asyncIterator]() {
        for (let part = 0; ; part++) {
          const reply = await askLeader<KeyedPartReply>(
            options,
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

async function askLeader<T>(
  options: CheckpointFollowerOptions,
  request: RestoreRequest,
  timeoutMs: number,
): Promise<T> {
  const reply = await options.link.requestRestore<T | ErrorReply>(request, timeoutMs);
  if (typeof reply === "object" && reply !== null && "error" in reply) {
    throw new RestoreRequestError(options.leaderName, request.type, reply.error);
  }
  return reply as T;
}

/** Asks the leader for the checkpoint to restore until it answers: it may start after this follower. */
async function waitForLeader(options: CheckpointFollowerOptions): Promise<CheckpointReply> {
  const deadline = options.clock.now() + options.waitMs;
  let last: unknown;
  for (;;) {
    try {
      return await askLeader<CheckpointReply>(options, { type: "checkpoint" }, 1_000);
    } catch (error) {
      last = error;
    }
    if (options.clock.now() >= deadline) {
      throw new CheckpointLeaderUnreachableError(options.leaderName, options.waitMs, last);
    }
    await options.clock.sleep(100);
  }
}
