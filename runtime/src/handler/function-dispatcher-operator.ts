import {
  type AnyAddress,
  type AnyFunctionType,
  type DeadLetter,
  type StateDeclarations,
  type StateHandles,
  type ValueState,
  valueState,
} from "@keyflow/functions-sdk";
import { AbstractOperator } from "../operator/abstract-operator.js";
import type { OperatorContext } from "../operator/operator.js";
import { shardOfKey } from "../partition/key-groups.js";
import { KeyedStateBackend } from "../state/keyed-state-backend.js";
import { PLAIN_NAMESPACE, TimerServiceState } from "../state/timer-state.js";
import { KeyedTimerService } from "../time/keyed-timer-service.js";
import type { InternalTimer } from "../time/timer-queue.js";
import { FeedbackUnreachableError, FunctionHandlerError, UnknownFunctionTypeError } from "./errors.js";
import { type Envelope, FeedbackLoop } from "./feedback-loop.js";
import { FunctionInvocation, parseToken } from "./function-invocation.js";

/** The keyed state holding an id's delayed messages (all its function types'). */
export const DELAYED_STATE = "__functions/delayed";

/** A delayed message waiting for its time: [seq, at, fromType, toType, toId, message]. */
type DelayedEntry = [seq: number, at: number, fromType: string, toType: string, toId: string, message: unknown];
/** Per id: the next sequence number (kept, so a stale token never cancels a newer message) and what is pending. */
interface DelayedMessages {
  readonly next: number;
  readonly pending: readonly DelayedEntry[];
}

/** Inbox messages handled per mail before the shard takes its next element. */
const DRAIN_BATCH = 256;

interface HostedFunction {
  readonly fn: AnyFunctionType;
  readonly state: StateHandles<StateDeclarations>;
}

/**
 * Hosts every function type of one functions operator in one shard (Flink StateFun's
 * FunctionGroupOperator): takes routed ingress records and messages from the feedback loop, sets
 * the address's id as the current key and calls its function's handler with that id's state.
 *
 * State: each function type's declared state is keyed state named `<type>/<name>` (two types
 * with one id never share state); delayed messages are keyed state `__functions/delayed` of the
 * sending id plus a processing-time timer of that id, so checkpoints hold them and they fire once.
 * All of it goes through the ordinary keyed-state snapshot, restore and rescaling by key group.
 *
 * Ordering and thread: everything runs on the shard's thread. Messages from the loop wait in an
 * unbounded inbox and are handled in mails, up to DRAIN_BATCH between two elements of the shard.
 */
export class FunctionDispatcherOperator extends AbstractOperator {
  readonly runsMailsWhileFinishing = true;
  readonly backend: KeyedStateBackend;
  readonly timers: KeyedTimerService<number>;
  private readonly hosted = new Map<string, HostedFunction>();
  private readonly delayed: ValueState<DelayedMessages>;
  private readonly loop: FeedbackLoop;
  private readonly invocation: FunctionInvocation;
  private readonly mail: (action: () => void) => void;
  private readonly maxParallelism: number;
  private readonly parallelism: number;
  private inbox: Array<Envelope | undefined> = [];
  private inboxHead = 0;
  private draining = false;

  constructor(
    context: OperatorContext,
    types: readonly AnyFunctionType[],
    private readonly deadLetters: string | undefined,
  ) {
    super(context);
    const { runtime } = context;
    this.maxParallelism = runtime.maxParallelism;
    this.parallelism = runtime.parallelism;
    this.backend = new KeyedStateBackend(runtime.maxParallelism, context.clock);
    for (const fn of types) {
      // Each type's state under "<type>/<name>", handed to its handler under "<name>".
      const declared = fn.state as StateDeclarations;
      const handles = this.backend.handles(
        Object.fromEntries(Object.entries(declared).map(([name, d]) => [`${fn.type}/${name}`, d])),
      ) as Record<string, unknown>;
      const state = Object.fromEntries(Object.keys(declared).map((name) => [name, handles[`${fn.type}/${name}`]]));
      this.hosted.set(fn.type, { fn, state: state as StateHandles<StateDeclarations> });
    }
    this.delayed = this.backend.handles({ [DELAYED_STATE]: valueState<DelayedMessages>() })[DELAYED_STATE];
    this.timers = new KeyedTimerService<number>({
      maxParallelism: runtime.maxParallelism,
      processingTime: context.processingTime,
      currentKey: () => this.backend.currentKey,
      onEventTime: () => {},
      onProcessingTime: (timer) => this.fireDelayed(timer),
    });
    this.checkpointState([this.backend, new TimerServiceState(this.timers, PLAIN_NAMESPACE, runtime.maxParallelism)]);
    this.invocation = new FunctionInvocation({
      clock: context.clock,
      checkTarget: (to) => this.checkTarget(to),
      nextDelayedSeq: () => this.delayed.value()?.next ?? 0,
    });
    this.mail = context.mail ?? ((action) => queueMicrotask(action));
    this.loop = FeedbackLoop.of(context, runtime.parallelism);
    const timers = this.timers;
    this.loop.join(runtime.shardIndex, {
      deliver: (envelope) => this.deliver(envelope),
      get pendingDelayed() {
        return timers.processingTimerCount;
      },
    });
  }

  /** Function types have no lifecycle of their own (no open/close). */
  protected functions(): readonly unknown[] {
    return [];
  }

  override async open(): Promise<void> {
    await super.open();
    const missing = this.loop.missing();
    if (missing.length > 0) throw new FeedbackUnreachableError(this.node.name, this.shardName, missing);
  }

  /** A routed ingress record: `{ to, message }`, already on the shard owning `to.id`. */
  processRecord(value: unknown): void {
    this.dispatch(value as Envelope);
  }

  /** Waits until every shard of the operator ended its input and the loop is quiet (see FeedbackLoop). */
  override finish(): Promise<void> {
    return this.loop.finish(this.context.runtime.shardIndex);
  }

  override async close(): Promise<void> {
    this.timers.dispose();
    await super.close();
  }

  private deliver(envelope: Envelope): void {
    this.inbox.push(envelope);
    if (this.draining) return;
    this.draining = true;
    this.mail(this.drain);
  }

  private readonly drain = (): void => {
    const inbox = this.inbox;
    let n = 0;
    while (this.inboxHead < inbox.length && n++ < DRAIN_BATCH) {
      const envelope = inbox[this.inboxHead] as Envelope;
      inbox[this.inboxHead++] = undefined;
      this.loop.taken();
      this.dispatch(envelope);
    }
    if (this.inboxHead === this.inbox.length) {
      this.inbox = [];
      this.inboxHead = 0;
      this.draining = false;
    } else {
      if (this.inboxHead >= 1024) {
        this.inbox = this.inbox.slice(this.inboxHead);
        this.inboxHead = 0;
      }
      this.mail(this.drain);
    }
    this.loop.check();
  };

  /** Handles one message for one address: current key, handler, then its effects. */
  private dispatch(envelope: Envelope): void {
    const to = envelope.to;
    this.backend.currentKey = to.id;
    if (envelope.cancel !== undefined) {
      this.cancelLocal(parseToken(envelope.cancel).seq);
      return;
    }
    const hosted = this.hosted.get(to.type);
    if (hosted === undefined) {
      const error = new UnknownFunctionTypeError(this.node.name, this.shardName, to.type, to.id, [
        ...this.hosted.keys(),
      ]);
      if (this.deadLetters === undefined) throw error;
      this.deadLetter(envelope, error);
      return;
    }
    const invocation = this.invocation;
    invocation.reset(to, envelope.from, hosted.state);
    try {
      hosted.fn.handle(invocation, envelope.message);
    } catch (error) {
      invocation.effects.length = 0;
      if (this.deadLetters === undefined) {
        throw new FunctionHandlerError(this.node.name, this.shardName, to.type, to.id, envelope.message, error);
      }
      this.deadLetter(envelope, error);
      return;
    }
    this.commit(invocation);
  }

  /** Applies what the handler asked for, in the order it asked. */
  private commit(invocation: FunctionInvocation): void {
    const effects = invocation.effects;
    if (effects.length === 0) return;
    const self = invocation.self;
    let delayed: DelayedMessages | undefined;
    for (const effect of effects) {
      switch (effect.kind) {
        case "send":
          this.route({ to: { type: effect.to.type, id: effect.to.id }, from: self, message: effect.message });
          break;
        case "egress":
          this.output.collectSide(effect.tag, effect.value, Number.NaN);
          break;
        case "sendAfter": {
          delayed ??= this.delayed.value() ?? { next: 0, pending: [] };
          const entry: DelayedEntry = [effect.seq, effect.at, self.type, effect.to.type, effect.to.id, effect.message];
          delayed = { next: effect.seq + 1, pending: [...delayed.pending, entry] };
          this.delayed.update(delayed);
          this.timers.registerProcessingTimeTimer(0, effect.at);
          break;
        }
        case "cancel": {
          const token = parseToken(effect.token);
          if (token.id === self.id) {
            this.cancelLocal(token.seq);
            delayed = undefined; // read again after a local change
          } else {
            // The delayed message is state of the id that scheduled it: the cancellation goes there.
            this.route({ to: { type: token.type, id: token.id }, from: self, cancel: effect.token });
          }
          break;
        }
      }
    }
  }

  /** Sends a message (or a cancellation) to the shard owning its address, through the loop. */
  private route(envelope: Envelope): void {
    this.loop.post(shardOfKey(envelope.to.id, this.maxParallelism, this.parallelism), envelope);
  }

  /** Removes the current id's delayed message `seq`, and its timer when no other message shares it. */
  private cancelLocal(seq: number): void {
    const delayed = this.delayed.value();
    if (delayed === undefined) return;
    const entry = delayed.pending.find((e) => e[0] === seq);
    if (entry === undefined) return; // delivered or cancelled already
    const pending = delayed.pending.filter((e) => e !== entry);
    this.delayed.update({ next: delayed.next, pending });
    if (!pending.some((e) => e[1] === entry[1])) this.timers.deleteProcessingTimeTimer(0, entry[1]);
  }

  /** A timer of an id that scheduled delayed messages came due: sends every one due by then, in order. */
  private fireDelayed(timer: InternalTimer<number>): void {
    const id = timer.key as string;
    this.backend.currentKey = id;
    const delayed = this.delayed.value();
    if (delayed !== undefined) {
      const due = delayed.pending.filter((e) => e[1] <= timer.timestamp);
      if (due.length > 0) {
        this.delayed.update({ next: delayed.next, pending: delayed.pending.filter((e) => e[1] > timer.timestamp) });
        for (const [, , fromType, toType, toId, message] of due) {
          this.route({ to: { type: toType, id: toId }, from: { type: fromType, id }, message });
        }
      }
    }
    this.loop.check();
  }

  private checkTarget(to: AnyAddress): void {
    if (to === null || typeof to !== "object" || typeof to.type !== "string" || typeof to.id !== "string") {
      throw new TypeError("a message needs an address made by functionType.address(id)");
    }
    if (!this.hosted.has(to.type)) {
      throw new UnknownFunctionTypeError(this.node.name, this.shardName, to.type, to.id, [...this.hosted.keys()]);
    }
  }

  private deadLetter(envelope: Envelope, error: unknown): void {
    const letter: DeadLetter = {
      address: { type: envelope.to.type, id: envelope.to.id },
      caller: envelope.from === undefined ? undefined : { type: envelope.from.type, id: envelope.from.id },
      message: envelope.message,
      error: {
        name: error instanceof Error ? error.name : "Error",
        message: error instanceof Error ? error.message : String(error),
        code: typeof (error as { code?: unknown })?.code === "string" ? (error as { code: string }).code : undefined,
      },
    };
    this.output.collectSide(this.deadLetters as string, letter, Number.NaN);
  }
}
