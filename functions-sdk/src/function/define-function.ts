import type { StateDeclarations } from "../state/descriptors.js";
import type { StateHandles } from "../state/handles.js";
import { type Address, type AnyAddress, addressOf } from "./address.js";
import type { Egress } from "./egress.js";

/**
 * A token for a delayed message, returned by `ctx.sendAfter` and taken by `ctx.cancel`. Plain
 * data (a string): keep it in state to cancel later, even after a restart.
 */
export type CancellationToken = string;

/**
 * What a handler may do while it handles one message for one address. One context per call,
 * valid only during it (do not keep it). Calls are synchronous; what the handler sends, schedules
 * and emits takes effect when it returns, and not at all when it throws.
 *
 * ```ts
 * handle(ctx, message: CounterMessage) {
 *   const count = (ctx.state.count.value() ?? 0) + message.n;
 *   ctx.state.count.update(count);
 *   ctx.egress(counts, { id: ctx.self.id, count });
 *   if (count >= 10) ctx.send(alerts.address(ctx.self.id), { kind: "over", count });
 * }
 * ```
 */
export interface FunctionContext<M, S extends StateDeclarations> {
  /** The address being handled: this function type and the current id. */
  readonly self: Address<M>;
  /** Who sent the message: another function (or this one), or undefined for a message from ingress. */
  readonly caller: AnyAddress | undefined;
  /** This address's state, one handle per declared name, typed from the declarations. */
  readonly state: StateHandles<S>;
  /**
   * Sends `message` to `to` (any function of the same functions operator, this one included).
   * Messages from one address to another arrive in the order sent; any cycle is allowed.
   */
  send<T>(to: Address<T>, message: NoInfer<T>): void;
  /**
   * Sends `message` to `to` once `delayMs` of processing time have passed. The delayed message is
   * state of this address (checkpointed with it) and is delivered exactly once unless cancelled.
   */
  sendAfter<T>(delayMs: number, to: Address<T>, message: NoInfer<T>): CancellationToken;
  /** Cancels a delayed message this address scheduled; nothing happens when it was delivered already. */
  cancel(token: CancellationToken): void;
  /** Emits `value` on an egress: `functions.egress(tag)` reads it as a stream. */
  egress<T>(tag: Egress<T>, value: NoInfer<T>): void;
  /** The runtime's processing time (ms since the epoch; a simulated clock in tests). */
  currentProcessingTime(): number;
  /** Processing-time timers of this address, delivered to the function's `onTimer`. */
  readonly timers: FunctionTimerService;
}

/**
 * Timers of one address, in processing time (as Flink's TimerService for a key): a timer is a
 * timestamp, registered once however often it is registered, fired once into the function's
 * `onTimer`, kept in the address's state through checkpoints and restores.
 */
export interface FunctionTimerService {
  currentProcessingTime(): number;
  /** Calls the function's `onTimer(ctx, timestamp)` once processing time reaches `timestamp`. */
  registerProcessingTimeTimer(timestamp: number): void;
  /** Removes the timer at `timestamp`, if it has not fired. */
  deleteProcessingTimeTimer(timestamp: number): void;
}

/** What `defineFunction` takes: a namespaced type name, the per-address state, and the handler. */
export interface FunctionSpec<M, S extends StateDeclarations> {
  /** A namespaced name, e.g. "shop/cart": the function's identity in addresses and checkpoints. */
  readonly type: string;
  /** State per address (per id), reached as `ctx.state.<name>`. */
  readonly state?: S;
  /** Handles one message for one address, synchronously. Throwing fails the job (or dead-letters the message). */
  handle(ctx: FunctionContext<M, S>, message: M): void;
  /** A timer this address registered (`ctx.timers`) came due; `ctx.caller` is undefined. */
  onTimer?(ctx: FunctionContext<M, S>, timestamp: number): void;
}

/**
 * A function type: the value `defineFunction` returns. Give it to a functions operator
 * (`stream.toFunctions({ functions: [counter], route })`) and make addresses of it.
 */
export interface FunctionType<M, S extends StateDeclarations = Record<never, never>> {
  readonly type: string;
  readonly state: S;
  readonly handle: (ctx: FunctionContext<M, S>, message: M) => void;
  readonly onTimer?: ((ctx: FunctionContext<M, S>, timestamp: number) => void) | undefined;
  /** The address of instance `id` of this function type, typed with its messages. */
  address(id: string): Address<M>;
}

/** The message type a function type accepts. */
export type MessageOf<F> = F extends FunctionType<infer M, infer _S> ? M : never;

// biome-ignore lint/suspicious/noExplicitAny: any function type, whatever its messages and state
export type AnyFunctionType = FunctionType<any, any>;

/**
 * Defines a function type: per-key state and a handler for its messages. The message type is
 * the type of the handler's `message` parameter (or give it: `defineFunction<CounterMessage>(...)`).
 *
 * ```ts
 * type CounterMessage = { kind: "add"; n: number } | { kind: "reset" };
 * export const counter = defineFunction({
 *   type: "example/counter",
 *   state: { count: valueState<number>() },
 *   handle(ctx, message: CounterMessage) {
 *     if (message.kind === "reset") ctx.state.count.clear();
 *     else ctx.state.count.update((ctx.state.count.value() ?? 0) + message.n);
 *   },
 * });
 * ```
 */
export function defineFunction<M, S extends StateDeclarations = Record<never, never>>(
  spec: FunctionSpec<M, S>,
): FunctionType<M, S> {
  const { type } = spec;
  if (typeof type !== "string" || type.length === 0) throw new TypeError("a function type needs a non-empty name");
  if (type.startsWith("__")) throw new TypeError(`function type "${type}": names starting with "__" are reserved`);
  if (typeof spec.handle !== "function")
    throw new TypeError(`function type "${type}" needs a handle(ctx, message) method`);
  const handle = spec.handle.bind(spec);
  if (spec.onTimer !== undefined && typeof spec.onTimer !== "function")
    throw new TypeError(`function type "${type}": onTimer must be a method (ctx, timestamp)`);
  return {
    type,
    state: spec.state ?? ({} as S),
    handle,
    onTimer: spec.onTimer?.bind(spec),
    address(id: string): Address<M> {
      if (typeof id !== "string") throw new TypeError(`an address of "${type}" needs a string id, got ${typeof id}`);
      return addressOf<M>(type, id);
    },
  };
}
