import type { ExecutionPlan } from "../plan/execution-plan.js";
import type { Shard } from "../shard/shard.js";
import { StateQueryError } from "./errors.js";
import { readKeyState } from "./read-key-state.js";
import { type QueryPlacement, type QueryTarget, resolveQuery } from "./resolve-query.js";
import type { QueryReply, StateQuery, StateQueryAnswer } from "./state-query.js";

/** The shards of one thread as a query sees them: a ShardHost. */
export interface QueryableHost {
  readonly plan: ExecutionPlan;
  readonly shards: readonly Shard[];
}

/** Where a host runs: its node and thread, and how many of each the job has. */
export interface HostPlace extends QueryPlacement {
  readonly node: number;
  readonly thread: number;
}

/** How long a shard may take to run a query's mail before the asker hears it is unavailable. Default 5 s. */
export const DEFAULT_SHARD_QUERY_TIMEOUT_MS = 5_000;

/**
 * Answers `query` from this host's shards: resolves it against the plan, reads the key's state on
 * the owning shard's thread between two elements, and replies. Never rejects: a failure is a
 * reply with the error (StateQueryError's wire form), so it crosses threads and NATS the same way.
 */
export async function answerOnHost(
  host: QueryableHost,
  query: StateQuery,
  place: HostPlace,
  timeoutMs = DEFAULT_SHARD_QUERY_TIMEOUT_MS,
): Promise<QueryReply> {
  try {
    return { ok: true, answer: await readOnHost(host, resolveQuery(host.plan, query, place), place, timeoutMs) };
  } catch (error) {
    return { ok: false, error: StateQueryError.wireOf(error) };
  }
}

/** Reads a resolved query on this host; throws StateQueryError when the shard is elsewhere, not running or slow. */
export async function readOnHost(
  host: QueryableHost,
  target: QueryTarget,
  place: HostPlace,
  timeoutMs = DEFAULT_SHARD_QUERY_TIMEOUT_MS,
): Promise<StateQueryAnswer> {
  const where = { uid: target.operator.uid, shard: target.shard, keyGroup: target.keyGroup };
  const shard = host.shards.find((s) => s.vertex.id === target.vertex.id && s.index === target.shard);
  if (shard === undefined) {
    throw new StateQueryError(
      "QUERY_SHARD_UNAVAILABLE",
      `shard ${target.shard} of "${target.operator.uid}" is not on node ${place.node} thread ${place.thread}`,
      where,
    );
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new StateQueryError(
            "QUERY_SHARD_UNAVAILABLE",
            `shard ${shard.name} did not answer within ${timeoutMs} ms`,
            where,
          ),
        ),
      timeoutMs,
    );
  });
  try {
    const read = await Promise.race([
      shard.readBetweenElements((operators) => readKeyState(operators, target)),
      timeout,
    ]).catch((error: unknown) => {
      if (error instanceof StateQueryError) throw error;
      throw new StateQueryError(
        "QUERY_SHARD_UNAVAILABLE",
        `${error instanceof Error ? error.message : String(error)} (the job is starting, restarting or ended)`,
        where,
      );
    });
    const origin = {
      uid: target.operator.uid,
      ...(target.fn === undefined ? {} : { functionType: target.fn.type }),
      key: target.query.key,
      keyGroup: target.keyGroup,
      shard: target.shard,
      node: place.node,
      thread: place.thread,
    };
    return read.found ? { found: true, state: read.state, origin } : { found: false, origin };
  } finally {
    clearTimeout(timer);
  }
}
