import type { Key } from "@keyflow/functions-sdk";
import type { WireQueryError } from "./errors.js";

/**
 * A queryable-state query: one key of one keyed operator, read on the shard owning its key group
 * between two elements. Plain data: it crosses worker ports, NATS and the control socket as is.
 *
 * - `{ functionType: "shop/cart", key: "c1" }`: address (shop/cart, c1) of the functions operator
 *   hosting that type (give `uid` too when several do);
 * - `{ uid: "sums", key: "sensor_1" }`: every state of key sensor_1 of the keyed operator "sums"
 *   (a keyed process or keyed co-process function), by declared name.
 */
export interface StateQuery {
  readonly functionType?: string;
  readonly uid?: string;
  /** The key: a function's address id (a string), or a keyed operator's key. */
  readonly key: Key;
}

/** Where an answer was read: operator, key group, shard and its place. */
export interface QueryOrigin {
  readonly uid: string;
  readonly functionType?: string;
  readonly key: Key;
  readonly keyGroup: number;
  readonly shard: number;
  readonly node: number;
  readonly thread: number;
}

/**
 * The answer to a query: the key's state (`found: true`), or `found: false` when the key has no
 * state — never an empty object in its place. For a function type the state is its declared
 * states by name (only those the key has), or a machine's inspection for a `fromMachine` type;
 * for a keyed operator its states by name.
 */
export type StateQueryAnswer<T = unknown> =
  | { readonly found: true; readonly state: T; readonly origin: QueryOrigin }
  | { readonly found: false; readonly origin: QueryOrigin };

/** An answer or a failure, as it crosses a thread, NATS or the control socket. */
export type QueryReply =
  | { readonly ok: true; readonly answer: StateQueryAnswer }
  | { readonly ok: false; readonly error: WireQueryError };
