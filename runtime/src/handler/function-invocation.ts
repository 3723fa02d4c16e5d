import type {
  Address,
  AnyAddress,
  CancellationToken,
  Egress,
  FunctionContext,
  FunctionTimerService,
  StateDeclarations,
  StateHandles,
} from "@keyflow/functions-sdk";
import type { Clock } from "../time/clock.js";
import { InvalidCancellationTokenError, InvalidDelayError } from "./errors.js";

/** What a handler asked for, applied when it returns (dropped when it throws). */
export type Effect =
  | { readonly kind: "send"; readonly to: AnyAddress; readonly message: unknown }
  | {
      readonly kind: "sendAfter";
      readonly at: number;
      readonly seq: number;
      readonly to: AnyAddress;
      readonly message: unknown;
    }
  | { readonly kind: "cancel"; readonly token: CancellationToken }
  | { readonly kind: "timer"; readonly at: number; readonly seq: number }
  | { readonly kind: "deleteTimer"; readonly at: number }
  | { readonly kind: "egress"; readonly tag: string; readonly value: unknown };

/** What the invocation needs from its operator. */
export interface InvocationHost {
  readonly clock: Clock;
  /** Throws when no function of `type` is hosted (the handler then fails, naming it). */
  checkTarget(to: AnyAddress): void;
  /** The next sequence number of a delayed message of the current id (not yet counting this call's). */
  nextDelayedSeq(): number;
  /** Throws when the current address's function type has no onTimer. */
  checkTimers(self: AnyAddress): void;
}

/**
 * The `ctx` of one handler call. One object per operator, reset before each call, so a message
 * costs no context allocation. Effects are buffered: a handler that throws sends, schedules,
 * cancels and emits nothing. (Its state writes stay; see runtime/README.md.)
 */
export class FunctionInvocation implements FunctionContext<unknown, StateDeclarations> {
  self: Address<unknown> = undefined as unknown as Address<unknown>;
  caller: AnyAddress | undefined;
  state: StateHandles<StateDeclarations> = {};
  readonly effects: Effect[] = [];
  private delayedInCall = 0;

  /** `ctx.timers`: timers of the address being handled, buffered like every effect. */
  readonly timers: FunctionTimerService;

  constructor(private readonly host: InvocationHost) {
    this.timers = {
      currentProcessingTime: () => host.clock.now(),
      registerProcessingTimeTimer: (timestamp) => {
        if (typeof timestamp !== "number" || !Number.isFinite(timestamp)) throw new InvalidDelayError(timestamp);
        host.checkTimers(this.self);
        const seq = host.nextDelayedSeq() + this.delayedInCall++;
        this.effects.push({ kind: "timer", at: timestamp, seq });
      },
      deleteProcessingTimeTimer: (timestamp) => {
        this.effects.push({ kind: "deleteTimer", at: timestamp });
      },
    };
  }

  /** Makes the context the one of a call for `self`, from `caller`, with `state`. */
  reset(self: AnyAddress, caller: AnyAddress | undefined, state: StateHandles<StateDeclarations>): void {
    this.self = self as Address<unknown>;
    this.caller = caller;
    this.state = state;
    this.effects.length = 0;
    this.delayedInCall = 0;
  }

  send<T>(to: Address<T>, message: T): void {
    this.host.checkTarget(to);
    this.effects.push({ kind: "send", to, message });
  }

  sendAfter<T>(delayMs: number, to: Address<T>, message: T): CancellationToken {
    if (typeof delayMs !== "number" || !Number.isFinite(delayMs) || delayMs < 0) throw new InvalidDelayError(delayMs);
    this.host.checkTarget(to);
    const seq = this.host.nextDelayedSeq() + this.delayedInCall++;
    const at = this.host.clock.now() + delayMs;
    this.effects.push({ kind: "sendAfter", at, seq, to, message });
    return tokenOf(this.self.type, this.self.id, seq);
  }

  cancel(token: CancellationToken): void {
    parseToken(token); // a bad token fails the handler now, not later
    this.effects.push({ kind: "cancel", token });
  }

  egress<T>(tag: Egress<T>, value: T): void {
    this.effects.push({ kind: "egress", tag: tag.id, value });
  }

  currentProcessingTime(): number {
    return this.host.clock.now();
  }
}

/**
 * A cancellation token: the scheduling address and the delayed message's sequence number there,
 * as a JSON array string — plain data that survives state, messages and restarts.
 */
export function tokenOf(type: string, id: string, seq: number): CancellationToken {
  return JSON.stringify([type, id, seq]);
}

/** The parts of a token, or a thrown InvalidCancellationTokenError. */
export function parseToken(token: unknown): { type: string; id: string; seq: number } {
  let parts: unknown;
  try {
    parts = typeof token === "string" ? JSON.parse(token) : undefined;
  } catch {
    parts = undefined;
  }
  if (
    !Array.isArray(parts) ||
    parts.length !== 3 ||
    typeof parts[0] !== "string" ||
    typeof parts[1] !== "string" ||
    !Number.isSafeInteger(parts[2])
  ) {
    throw new InvalidCancellationTokenError(token);
  }
  return { type: parts[0], id: parts[1], seq: parts[2] as number };
}
