import {
  type ActorScope,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type AnyStateNode,
  type ContextFrom,
  createActor,
  type EmittedFrom,
  type EventFromLogic,
  type EventObject,
  type ExecutableActionObject,
  type InputFrom,
  type SnapshotFrom,
} from "xstate";
import { type ValueStateDescriptor, valueState } from "../state/descriptors.js";
import { type Address, addressOf } from "./address.js";
import type { CancellationToken, FunctionContext, FunctionType } from "./define-function.js";
import { MachineEmitUnhandledError, MachineFeatureUnsupportedError } from "./errors.js";

/**
 * One key's state in a machine-backed function (keyed value state `<type>/machine`): the
 * machine's persisted snapshot and the delayed events it is waiting for. Plain data.
 */
export interface MachineState {
  /** `machine.getPersistedSnapshot(snapshot)`: value, context, status, history (no children). */
  readonly snapshot: unknown;
  /**
   * Delayed events pending (from `after` and delayed `raise`), by xstate's send id: the Keyflow
   * delayed message's cancellation token and its generation (a delayed message whose generation
   * is not the current one for its send id was replaced and is ignored when it arrives).
   */
  readonly delayed: Readonly<Record<string, readonly [token: CancellationToken, generation: number]>>;
  /** The next generation number. */
  readonly next: number;
}

/** What an inspector shows of one key's machine (see `inspectMachineState`). */
export interface MachineInspection<TValue = unknown, TContext = unknown> {
  /** The state value, e.g. `"active"` or `{ checkout: "paying" }`. */
  readonly value: TValue;
  readonly context: TContext;
  /** "active", or "done" once the machine reached a final state (it then ignores events), or "error". */
  readonly status: "active" | "done" | "error" | "stopped";
  /** The machine's output once done. */
  readonly output: unknown;
  /** The send ids of the delayed events it waits for, e.g. `"xstate.after.3600000.cart.open"`. */
  readonly delayed: readonly string[];
}

/**
 * What an `on` handler may do with an event the machine emitted: send to addresses (typed),
 * emit to egress, read who it is and who sent the event being handled. It has no state (the
 * machine's snapshot is the state) and no timers (use `after` or a delayed `raise`).
 */
export type MachineEffectContext<E> = Pick<
  FunctionContext<E, Record<never, never>>,
  "self" | "caller" | "send" | "egress" | "currentProcessingTime"
>;

type EmittedType<T extends AnyStateMachine> = EmittedFrom<T>["type"];

/** Per type of emitted event, what it does in Keyflow; every emitted type must be mapped. */
export type EmittedHandlers<T extends AnyStateMachine> = {
  [K in EmittedType<T>]: (
    ctx: MachineEffectContext<EventFromLogic<T>>,
    event: Extract<EmittedFrom<T>, { type: K }>,
  ) => void;
};

/** What `fromMachine` takes. */
export interface MachineSpec<T extends AnyStateMachine> {
  /** A namespaced name, e.g. "shop/cart": the function's identity in addresses and checkpoints. */
  readonly type: string;
  /** An xstate v5 machine: deterministic (no Date.now, no Math.random), no invoke, no spawn, no sendTo. */
  readonly machine: T;
  /** The machine's input for a key's first event (its initial snapshot), e.g. `(self) => ({ cartId: self.id })`. */
  readonly input?: (self: Address<EventFromLogic<T>>) => InputFrom<T>;
  /**
   * Maps each event type the machine `emit`s to Keyflow effects, in the order emitted:
   * `{ checkedOut: (ctx, event) => ctx.egress(orders, event.order) }`.
   */
  readonly on?: EmittedHandlers<T>;
}

/** The state a machine-backed function declares. */
export type MachineStateDeclarations = { readonly machine: ValueStateDescriptor<MachineState> };

/**
 * A function type whose per-key state is a state machine: the value `fromMachine` returns. Its
 * messages are the machine's events, so `cart.address(id)` is an `Address<CartEvent>`.
 */
export interface MachineFunctionType<T extends AnyStateMachine>
  extends FunctionType<EventFromLogic<T>, MachineStateDeclarations> {
  readonly machine: T;
  /** Value, context and status of a key's machine from its stored state (undefined: no state). */
  inspect(state: MachineState | undefined): MachineInspection<SnapshotFrom<T>["value"], ContextFrom<T>> | undefined;
}

/** The Keyflow delayed message that carries a delayed event of a machine back to it. */
interface DelayedEvent {
  readonly type: typeof DELAYED_EVENT;
  readonly sendId: string;
  readonly generation: number;
  readonly event: EventObject;
}
const DELAYED_EVENT = "keyflow.machine.delayed";
const NONE: MachineState["delayed"] = Object.freeze({});

/**
 * Makes a function type from an xstate v5 machine: per key (address id), the state is the
 * machine's persisted snapshot; each message is an event, stepped with xstate's pure transition
 * (no live actor per key, nothing kept between messages but the snapshot); what the machine
 * `emit`s goes through `on` to sends and egress; its delayed transitions (`after`) and delayed
 * `raise` become Keyflow delayed messages to itself, durable and cancelled when the state is left.
 *
 * ```ts
 * const cart = fromMachine({
 *   type: "shop/cart",
 *   machine: cartMachine, // setup({ types: { events: {} as CartEvent, emitted: {} as CartEmitted } }).createMachine(...)
 *   input: (self) => ({ cartId: self.id }),
 *   on: {
 *     checkedOut: (ctx, event) => ctx.egress(orders, event.order),
 *     abandoned: (ctx, event) => ctx.egress(reminders, { cartId: ctx.self.id, items: event.items }),
 *   },
 * });
 * ctx.send(cart.address("c1"), { type: "add", sku: "apple" }); // checked against CartEvent
 * ```
 *
 * Why `emit` (and not actions that call Keyflow): a machine stays a plain xstate machine, which
 * runs and tests the same in a live actor (`actor.on(...)`), and whose pure transition returns its
 * emitted events as data, in order, with their types; `on` then does the sending with a `ctx`
 * argument, typed by the emitted event and the target's address, with no global context.
 */
export function fromMachine<T extends AnyStateMachine>(spec: MachineSpec<T>): MachineFunctionType<T> {
  const { type, machine } = spec;
  if (typeof type !== "string" || type.length === 0) throw new TypeError("a function type needs a non-empty name");
  if (type.startsWith("__")) throw new TypeError(`function type "${type}": names starting with "__" are reserved`);
  if (machine === null || typeof machine !== "object" || typeof machine.transition !== "function") {
    throw new TypeError(`function type "${type}" needs an xstate v5 machine (createMachine or setup().createMachine)`);
  }
  rejectInvoke(type, machine.root);
  const on = (spec.on ?? {}) as Record<string, (ctx: unknown, event: EventObject) => void>;
  const stepper = new MachineStepper(type, machine);
  const fn: MachineFunctionType<T> = {
    type,
    machine,
    state: { machine: valueState<MachineState>() },
    handle(ctx, message) {
      stepper.step(
        ctx as FunctionContext<unknown, MachineStateDeclarations>,
        message,
        spec.input as ((self: Address<unknown>) => unknown) | undefined,
        on,
      );
    },
    address(id: string): Address<EventFromLogic<T>> {
      if (typeof id !== "string") throw new TypeError(`an address of "${type}" needs a string id, got ${typeof id}`);
      return addressOf<EventFromLogic<T>>(type, id);
    },
    inspect(state) {
      return inspectMachineState(state) as MachineInspection<SnapshotFrom<T>["value"], ContextFrom<T>> | undefined;
    },
  };
  return fn;
}

/**
 * Value, context, status and pending delayed events of one key's machine, from its stored state
 * (the value of keyed state `<type>/machine`, as read from a live operator or a checkpoint), or
 * undefined when the key has none. Needs no machine: what the queryable-state API returns.
 */
export function inspectMachineState(state: unknown): MachineInspection | undefined {
  if (state === undefined || state === null) return undefined;
  const { snapshot, delayed } = state as MachineState;
  const persisted = snapshot as {
    value: unknown;
    context: unknown;
    status: MachineInspection["status"];
    output: unknown;
  };
  return {
    value: persisted.value,
    context: persisted.context,
    status: persisted.status,
    output: persisted.output,
    delayed: Object.keys(delayed ?? {}),
  };
}

/** Rejects a machine that invokes actors (promises, callbacks, child machines): they run outside Keyflow's state. */
function rejectInvoke(type: string, node: AnyStateNode): void {
  if (node.invoke.length > 0) {
    throw new MachineFeatureUnsupportedError(
      type,
      `invoke (state "#${node.id}" invokes "${String(node.invoke[0]?.src)}")`,
      "an invoked actor runs outside the key's durable state; send a message to another function and handle its reply as an event",
    );
  }
  for (const child of Object.values(node.states)) rejectInvoke(type, child);
}

/**
 * Steps one machine for one key at a time: restores the snapshot (from a cache of the last
 * snapshots it made, else from the persisted form), takes the event, runs what the transition
 * asked for, and stores the new persisted snapshot. One per function type, shared by the shards
 * of a thread; it keeps nothing per key that the state does not hold (the cache is derived data).
 */
class MachineStepper {
  /** An actor scope with no live actor: xstate's pure `transition` builds one per call; one reused costs less. */
  private readonly scope: ActorScope<AnyMachineSnapshot, EventObject>;
  private readonly actions: ExecutableActionObject[] = [];
  /** The live snapshot each persisted snapshot was made from (valid while that persisted object is the key's state). */
  private readonly live = new WeakMap<object, AnyMachineSnapshot>();

  constructor(
    private readonly type: string,
    private readonly machine: AnyStateMachine,
  ) {
    const self = createActor(machine); // never started: the `self` actions see, and its (idle) system
    const actions = this.actions;
    this.scope = {
      self,
      id: "",
      sessionId: "",
      logger: () => {},
      defer: () => {},
      emit: () => {},
      stopChild: () => {},
      system: self.system,
      actionExecutor: (action: ExecutableActionObject) => {
        actions.push(action);
      },
    } as unknown as ActorScope<AnyMachineSnapshot, EventObject>;
  }

  step(
    ctx: FunctionContext<unknown, MachineStateDeclarations>,
    message: unknown,
    input: ((self: Address<unknown>) => unknown) | undefined,
    on: Record<string, (ctx: unknown, event: EventObject) => void>,
  ): void {
    if (message === null || typeof message !== "object" || typeof (message as EventObject).type !== "string") {
      throw new TypeError(`function type "${this.type}" takes machine events ({ type: string, ... })`);
    }
    const machine = this.machine;
    const actions = this.actions;
    actions.length = 0;
    const stored = ctx.state.machine.value();
    const timers = new Timers(stored);
    let snapshot: AnyMachineSnapshot;
    if (stored === undefined) {
      snapshot = machine.getInitialSnapshot(this.scope, input?.(ctx.self));
      this.checkStatus(snapshot);
    } else {
      snapshot =
        this.live.get(stored.snapshot as object) ??
        machine.restoreSnapshot(stored.snapshot as AnyMachineSnapshot, this.scope);
    }
    let event = message as EventObject;
    if (event.type === DELAYED_EVENT) {
      const delayed = event as DelayedEvent;
      // Cancelled or replaced since it was scheduled: not for this machine any more.
      if (!timers.take(delayed.sendId, delayed.generation)) return;
      event = delayed.event;
    }
    snapshot = machine.transition(snapshot, event, this.scope);
    this.checkStatus(snapshot);
    for (let i = 0; i < actions.length; i++) this.run(actions[i] as ExecutableActionObject, ctx, on, timers);
    actions.length = 0;
    this.save(ctx, stored, snapshot, timers);
  }

  private save(
    ctx: FunctionContext<unknown, MachineStateDeclarations>,
    stored: MachineState | undefined,
    snapshot: AnyMachineSnapshot,
    timers: Timers,
  ): void {
    let persisted = stored?.snapshot;
    if (stored === undefined || this.live.get(stored.snapshot as object) !== snapshot) {
      persisted = this.machine.getPersistedSnapshot(snapshot);
      this.live.set(persisted as object, snapshot);
    }
    if (stored !== undefined && persisted === stored.snapshot && !timers.changed) return;
    ctx.state.machine.update({ snapshot: persisted, delayed: timers.delayed, next: timers.next });
  }

  private checkStatus(snapshot: AnyMachineSnapshot): void {
    if (snapshot.status === "error") throw snapshot.error;
    if (Object.keys(snapshot.children).length > 0) {
      throw new MachineFeatureUnsupportedError(
        this.type,
        `a child actor ("${Object.keys(snapshot.children)[0]}")`,
        "spawned and invoked actors run outside the key's durable state; use another function type and messages",
      );
    }
  }

  /** Does what one action of a transition asks, in order. */
  private run(
    action: ExecutableActionObject,
    ctx: FunctionContext<unknown, MachineStateDeclarations>,
    on: Record<string, (ctx: unknown, event: EventObject) => void>,
    timers: Timers,
  ): void {
    const params = action.params as Record<string, unknown> | undefined;
    switch (action.type) {
      case "xstate.raise": {
        const delay = params?.delay;
        if (typeof delay !== "number") return; // an immediate raise was taken within the transition
        const sendId = (params?.id as string | undefined) ?? `keyflow.raise.${timers.next}`;
        timers.cancel(ctx, sendId); // xstate would keep both; one id, one pending event
        const generation = timers.next;
        const message: DelayedEvent = { type: DELAYED_EVENT, sendId, generation, event: params?.event as EventObject };
        timers.add(sendId, ctx.sendAfter(delay, ctx.self, message), generation);
        return;
      }
      case "xstate.cancel":
        timers.cancel(ctx, params?.sendId as string);
        return;
      case "xstate.emit": {
        const event = params?.event as EventObject;
        const handler = on[event.type];
        if (handler === undefined) throw new MachineEmitUnhandledError(this.type, event);
        handler(ctx, event);
        return;
      }
      case "xstate.sendTo":
      case "xstate.sendParent":
        throw new MachineFeatureUnsupportedError(
          this.type,
          "sendTo",
          "a machine has no other actors here: emit an event and send from fromMachine's `on`, or raise one to itself",
        );
      case "xstate.spawnChild":
        throw new MachineFeatureUnsupportedError(
          this.type,
          "spawnChild",
          "spawned actors run outside the key's durable state; use another function type and messages",
        );
      case "xstate.log":
      case "xstate.stopChild":
        return;
      default:
        // A custom action (from setup's `actions`, or inline): run it as a live actor would.
        action.exec?.(action.info, action.params);
    }
  }
}

/** The delayed events of one key while one message is handled: copied on first change. */
class Timers {
  delayed: MachineState["delayed"];
  next: number;
  changed = false;

  constructor(stored: MachineState | undefined) {
    this.delayed = stored?.delayed ?? NONE;
    this.next = stored?.next ?? 0;
  }

  /** Removes the pending event `sendId` if it is of `generation`; false when it is not pending. */
  take(sendId: string, generation: number): boolean {
    if (this.delayed[sendId]?.[1] !== generation) return false;
    this.remove(sendId);
    return true;
  }

  add(sendId: string, token: CancellationToken, generation: number): void {
    this.delayed = { ...this.delayed, [sendId]: [token, generation] };
    this.next = generation + 1;
    this.changed = true;
  }

  cancel(ctx: FunctionContext<unknown, MachineStateDeclarations>, sendId: string): void {
    const pending = this.delayed[sendId];
    if (pending === undefined) return;
    ctx.cancel(pending[0]);
    this.remove(sendId);
  }

  private remove(sendId: string): void {
    const { [sendId]: _, ...rest } = this.delayed;
    this.delayed = rest;
    this.changed = true;
  }
}
