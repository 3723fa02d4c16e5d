/** Brands an address with the messages its function accepts; exists only in types. */
declare const ACCEPTS: unique symbol;

/**
 * Where a per-key message goes: a function type and an id (the key). Routed by the id's key
 * group, like every keyed record, so one id's messages are handled one at a time on one shard.
 *
 * An address carries, in its type only, the messages its function accepts: `counter.address("a")`
 * is an `Address<CounterMessage>`, and `ctx.send(address, message)` fails to compile when the
 * message is not one of them. At run time an address is plain data, `{ type, id }`: it may be put
 * in state and in messages, and crosses threads and nodes as it is.
 *
 * ```ts
 * const a: Address<CounterMessage> = counter.address("user-7");
 * ctx.send(a, { kind: "add", n: 1 });
 * ```
 */
export interface Address<M> {
  /** The function type, e.g. "example/counter". */
  readonly type: string;
  /** The key: which instance of the function type. */
  readonly id: string;
  /** Phantom, never present at run time: invariant in M, so an address accepts exactly M. */
  readonly [ACCEPTS]: (message: M) => M;
}

/**
 * An address whose message type is not known statically: `ctx.caller`, or an address read back
 * from plain data. To send to it, state what it accepts: `ctx.send(ctx.caller as Address<Pong>, pong)`.
 */
export interface AnyAddress {
  readonly type: string;
  readonly id: string;
}

/** Makes an address (the runtime and `FunctionType.address` use it). */
export function addressOf<M>(type: string, id: string): Address<M> {
  return { type, id } as Address<M>;
}
