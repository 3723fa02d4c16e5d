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
import { keyGroupOf, keyGroupRangeOf, shardOfKey } from "../partition/key-groups.js";
import { KeyedStateBackend } from "../state/keyed-state-backend.js";
import type { OperatorListStatePart } from "../state/operator-state-snapshots.js";
import type { OperatorSnapshot } from "../state/snapshot.js";
import { PLAIN_NAMESPACE, TimerServiceState } from "../state/timer-state.js";
import { KeyedTimerService } from "../time/keyed-timer-service.js";
import type { InternalTimer } from "../time/timer-queue.js";
import type { SnapshotMode } from "../util/change-tracker.js";
import { FeedbackUnreachableError, FunctionHandlerError, UnknownFunctionTypeError } from "./errors.js";
import { type Envelope, FeedbackLoop, type InboxEntry } from "./feedback-loop.js";
import { FunctionInvocation, parseToken } from "./function-invocation.js";
import { LoopRecorder, type LoopRecording } from "./loop-recorder.js";

/** The keyed state holding an id's delayed messages (all its function types'). */
export const DELAYED_STATE = "__functions/delayed";

/**
 * Operator list state ("union") holding the messages a shard recorded in flight on the feedback
 * loop at a checkpoint (envelopes, in the order it took them). Every shard of a restore reads the
 * union of all old shards' lists and keeps the messages whose address is in its key groups, so
 * they find their owner at any parallelism.
 */
export const LOOP_STATE = "__functions/loop";

/**
 * A delayed message waiting for its time: [seq, at, fromType, toType, toId, message], and a
 * trailing 1 for a timer of the address (`ctx.timers`: delivered to `onTimer`, one per timestamp).
 */
type DelayedEntry = [
  seq: number,
  at: number,
  fromType: string,
  toType: string,
  toId: string,
  message: unknown,
  timer?: 1,
];
/** Per id: the next sequence number (kept, so a stale token never cancels a newer message) and what is pending. */
interface DelayedMessages {
  readonly next: number;
  readonly pending: readonly DelayedEntry[];
}

/** Inbox messages handled per mail before the shard takes its next element. */
const DRAIN_BATCH = 256;

/** This shard's part of a checkpoint, from its snapshot until every marker was taken. */
interface Completion {
  /** Messages recorded in flight into this shard (filled until `whole`). */
  recorded: readonly Envelope[];
  whole: boolean;
  snapshot?: OperatorSnapshot;
  done?: (whole: OperatorSnapshot) => void;
}

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
 *
 * Checkpoints across message loops (Chandy–Lamport, see LoopRecorder): the shard snapshots when
 * its ingress barriers align, then marks the checkpoint in every shard's inbox; its report waits
 * (`completeSnapshot`) until it took every shard's marker, and carries the messages that crossed
 * the cut as the union list state LOOP_STATE, which a restore puts back into the inboxes first.
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
  private readonly shardIndex: number;
  /** Inbox entries and, in parallel, the shard that sent each. */
  private inbox: Array<InboxEntry | undefined> = [];
  private inboxFrom: number[] = [];
  private inboxHead = 0;
  private draining = false;
  private readonly recorder: LoopRecorder;
  /** Checkpoints snapshotted whose part is not reported yet, by id. */
  private readonly completions = new Map<number, Completion>();

  constructor(
    context: OperatorContext,
    types: readonly AnyFunctionType[],
    private readonly deadLetters: string | undefined,
  ) {
    super(context);
    const { runtime } = context;
    this.maxParallelism = runtime.maxParallelism;
    this.parallelism = runtime.parallelism;
    this.shardIndex = runtime.shardIndex;
    this.recorder = new LoopRecorder(runtime.parallelism);
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
    this.checkpointState(
      [this.backend, new TimerServiceState(this.timers, PLAIN_NAMESPACE, runtime.maxParallelism)],
      this.loopState(),
    );
    this.invocation = new FunctionInvocation({
      clock: context.clock,
      checkTarget: (to) => this.checkTarget(to),
      nextDelayedSeq: () => this.delayed.value()?.next ?? 0,
      checkTimers: (self) => {
        if (this.hosted.get(self.type)?.fn.onTimer === undefined) {
          throw new TypeError(`function type "${self.type}" registers a timer but has no onTimer(ctx, timestamp)`);
        }
      },
    });
    this.mail = context.mail ?? ((action) => queueMicrotask(action));
    this.loop = FeedbackLoop.of(context, runtime.parallelism);
    const timers = this.timers;
    this.loop.join(runtime.shardIndex, {
      deliver: (sender, entry) => this.deliver(sender, entry),
      get pendingDelayed() {
        return timers.processingTimerCount;
      },
      quiet: () => this.whole(this.recorder.onQuiet()),
    });
  }

  /**
   * The loop messages of a checkpoint as list state: empty at the snapshot (they are added when the
   * part is whole, see `withLoop`); on restore, the messages addressed to this shard's key groups
   * go into its inbox, as sent by itself, before anything else it takes.
   */
  private loopState(): OperatorListStatePart {
    return {
      snapshot: () => ({ [LOOP_STATE]: { distribution: "union", items: [] } }),
      restore: (state) => {
        const { start, end } = keyGroupRangeOf(this.shardIndex, this.maxParallelism, this.parallelism);
        for (const item of state[LOOP_STATE] ?? []) {
          const envelope = item as Envelope;
          const group = keyGroupOf(envelope.to.id, this.maxParallelism);
          if (group >= start && group <= end) this.loop.post(this.shardIndex, this.shardIndex, envelope);
        }
      },
    };
  }

  /**
   * Snapshots the state, then starts recording what crosses the cut on the loop and puts this
   * checkpoint's marker into every shard's inbox, behind every message this shard sent before.
   */
  override snapshotState(checkpointId: number, mode: SnapshotMode): OperatorSnapshot | undefined {
    const snapshot = super.snapshotState(checkpointId, mode);
    if (snapshot === undefined) return undefined;
    if (this.loop.isQuiet) {
      // Every shard finished: nothing is or will be in flight.
      this.completions.set(checkpointId, { recorded: [], whole: true });
      return snapshot;
    }
    const { recording, released } = this.recorder.onSnapshot(checkpointId);
    this.completions.set(checkpointId, {
      recorded: recording?.recorded ?? [],
      whole: recording === undefined || recording.openCount === 0,
    });
    this.requeue(released);
    this.loop.mark(this.shardIndex, checkpointId);
    return snapshot;
  }

  /** Reports the snapshot once every shard's marker for it was taken, with the messages recorded until then. */
  completeSnapshot(checkpointId: number, snapshot: OperatorSnapshot, done: (whole: OperatorSnapshot) => void): void {
    const completion = this.completions.get(checkpointId);
    if (completion === undefined || completion.whole) {
      this.completions.delete(checkpointId);
      done(this.withLoop(snapshot, completion?.recorded ?? []));
      return;
    }
    completion.snapshot = snapshot;
    completion.done = done;
  }

  /** A checkpoint was aborted: its recording is dropped (its report, if any, goes out empty) and held channels open. */
  override async notifyCheckpointAborted(checkpointId: number): Promise<void> {
    const { dropped, released } = this.recorder.onAborted(checkpointId);
    if (dropped !== undefined) this.whole([{ ...dropped, recorded: [] }]);
    this.requeue(released);
    await super.notifyCheckpointAborted(checkpointId);
  }

  /** Recordings made whole: their checkpoints' reports go out. */
  private whole(recordings: readonly LoopRecording[]): void {
    for (const { checkpointId, recorded } of recordings) {
      const completion = this.completions.get(checkpointId);
      if (completion === undefined) continue;
      completion.recorded = recorded;
      completion.whole = true;
      const { snapshot, done } = completion;
      if (snapshot === undefined || done === undefined) continue;
      this.completions.delete(checkpointId);
      done(this.withLoop(snapshot, recorded));
    }
  }

  /** The snapshot carrying `recorded` as its loop list state. */
  private withLoop(snapshot: OperatorSnapshot, recorded: readonly Envelope[]): OperatorSnapshot {
    if (recorded.length === 0) return snapshot;
    return {
      uid: snapshot.uid,
      mode: snapshot.mode,
      keyGroups: snapshot.keyGroups,
      keyed: snapshot.keyed,
      ...(snapshot.columnar === undefined ? {} : { columnar: snapshot.columnar }),
      operatorState: { ...snapshot.operatorState, [LOOP_STATE]: { distribution: "union", items: recorded } },
      ...(snapshot.stateVersions === undefined ? {} : { stateVersions: snapshot.stateVersions }),
      release: () => snapshot.release(),
    };
  }

  /** Held entries whose channels opened again go first into the inbox, in order. */
  private requeue(released: ReadonlyArray<readonly [number, InboxEntry]>): void {
    if (released.length === 0) return;
    this.inbox = [...released.map(([, entry]) => entry), ...this.inbox.slice(this.inboxHead)];
    this.inboxFrom = [...released.map(([sender]) => sender), ...this.inboxFrom.slice(this.inboxHead)];
    this.inboxHead = 0;
    if (this.draining) return;
    this.draining = true;
    this.mail(this.drain);
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
    this.recorder.clear();
    await super.close();
  }

  private deliver(sender: number, entry: InboxEntry): void {
    this.inbox.push(entry);
    this.inboxFrom.push(sender);
    if (this.draining) return;
    this.draining = true;
    this.mail(this.drain);
  }

  private readonly drain = (): void => {
    const inbox = this.inbox;
    const from = this.inboxFrom;
    const recorder = this.recorder;
    let n = 0;
    while (this.inboxHead < inbox.length && n++ < DRAIN_BATCH) {
      const entry = inbox[this.inboxHead] as InboxEntry;
      const sender = from[this.inboxHead] as number;
      inbox[this.inboxHead++] = undefined;
      if (recorder.isBlocked(sender)) {
        // Sent after its sender's snapshot of a checkpoint this shard has not snapshotted yet.
        recorder.hold(sender, entry);
        continue;
      }
      this.loop.taken();
      if (typeof entry === "number") {
        this.whole(recorder.onMarker(sender, entry));
        continue;
      }
      if (recorder.recording) recorder.onMessage(sender, entry);
      this.dispatch(entry);
    }
    if (this.inboxHead === this.inbox.length) {
      this.inbox = [];
      this.inboxFrom = [];
      this.inboxHead = 0;
      this.draining = false;
    } else {
      if (this.inboxHead >= 1024) {
        this.inbox = this.inbox.slice(this.inboxHead);
        this.inboxFrom = this.inboxFrom.slice(this.inboxHead);
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
    const timer = envelope.timer;
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
      if (timer === undefined) hosted.fn.handle(invocation, envelope.message);
      else hosted.fn.onTimer?.(invocation, timer);
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
        case "timer": {
          delayed ??= this.delayed.value() ?? { next: 0, pending: [] };
          const at = effect.at;
          const known = delayed.pending.some((e) => e[6] === 1 && e[2] === self.type && e[1] === at);
          const entry: DelayedEntry = [effect.seq, at, self.type, self.type, self.id, null, 1];
          delayed = { next: effect.seq + 1, pending: known ? delayed.pending : [...delayed.pending, entry] };
          this.delayed.update(delayed);
          if (!known) this.timers.registerProcessingTimeTimer(0, at);
          break;
        }
        case "deleteTimer": {
          const entry = (this.delayed.value()?.pending ?? []).find(
            (e) => e[6] === 1 && e[2] === self.type && e[1] === effect.at,
          );
          if (entry !== undefined) this.cancelLocal(entry[0]);
          delayed = undefined; // read again after a local change
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
    this.loop.post(this.shardIndex, shardOfKey(envelope.to.id, this.maxParallelism, this.parallelism), envelope);
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
        for (const [, at, fromType, toType, toId, message, timer] of due) {
          if (timer === 1) this.route({ to: { type: toType, id: toId }, timer: at });
          else this.route({ to: { type: toType, id: toId }, from: { type: fromType, id }, message });
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
