import type { AnyFunctionType, FunctionStateOf, Key } from "@keyflow/functions-sdk";
import { StateQueryError } from "./errors.js";
import type { QueryReply, StateQuery, StateQueryAnswer } from "./state-query.js";

/** Options of one query. */
export interface QueryOptions {
  /** The functions operator's uid, when several host the type. */
  readonly uid?: string;
}

/**
 * Reads one key's state from a running job, consistent for that key: the shard owning the key's
 * key group reads it between two elements, so an answer never shows half of a handler's update.
 * Read-only (no TTL restarts, nothing recorded for checkpoints). The same interface embedded
 * (`execute(job, { onQueryable })`), in a cluster (`queryClient({ natsUrl, job })`) and behind
 * `keyflow query`.
 *
 * Answers: `{ found: true, state, origin }`, or `{ found: false, origin }` for a key with no state.
 * Rejects with StateQueryError: QUERY_FUNCTION_TYPE_UNKNOWN (naming the known types),
 * QUERY_OPERATOR_UNKNOWN, QUERY_TARGET_AMBIGUOUS, QUERY_INVALID, or the retriable
 * QUERY_SHARD_UNAVAILABLE / QUERY_JOB_UNREACHABLE.
 *
 * ```ts
 * const answer = await client.query(counter, "user-7");
 * if (answer.found) console.log(answer.state.total); // typed from counter's state
 * ```
 */
export interface StateQueryClient {
  /** A function's state at address (fn, id): its declared states, or a machine's inspection. */
  query<F extends AnyFunctionType>(
    fn: F,
    id: string,
    options?: QueryOptions,
  ): Promise<StateQueryAnswer<FunctionStateOf<F>>>;
  /** The same by the function type's name (untyped: the CLI, a type from another module). */
  query(functionType: string, id: string, options?: QueryOptions): Promise<StateQueryAnswer<Record<string, unknown>>>;
  /** Every state of `key` in the keyed operator `uid` (a keyed process or keyed co-process function), by name. */
  queryKeyed(uid: string, key: Key): Promise<StateQueryAnswer<Record<string, unknown>>>;
  /** A query as plain data. */
  ask(query: StateQuery): Promise<StateQueryAnswer>;
}

/** A StateQueryClient over a transport that sends a query and resolves with its reply. */
export class ReplyQueryClient implements StateQueryClient {
  constructor(private readonly send: (query: StateQuery) => Promise<QueryReply>) {}

  query<F extends AnyFunctionType>(
    fn: F | string,
    id: string,
    options: QueryOptions = {},
    // biome-ignore lint/suspicious/noExplicitAny: one implementation of both overloads
  ): Promise<StateQueryAnswer<any>> {
    const functionType = typeof fn === "string" ? fn : fn.type;
    return this.ask({ functionType, key: id, ...(options.uid === undefined ? {} : { uid: options.uid }) });
  }

  queryKeyed(uid: string, key: Key): Promise<StateQueryAnswer<Record<string, unknown>>> {
    return this.ask({ uid, key }) as Promise<StateQueryAnswer<Record<string, unknown>>>;
  }

  async ask(query: StateQuery): Promise<StateQueryAnswer> {
    const reply = await this.send(query);
    if (!reply.ok) throw StateQueryError.fromWire(reply.error);
    return reply.answer;
  }
}
