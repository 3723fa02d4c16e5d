import type { OperatorContext } from "../operator/operator.js";
import type { InboxEntry } from "./envelope.js";
import { FeedbackProtocolError } from "./errors.js";
import type { FeedbackNetwork, NetworkedLoop, Outbox } from "./feedback-network.js";
import { type LoopCounts, TerminationCoordinator } from "./loop-termination.js";

export type { Envelope, InboxEntry } from "./envelope.js";

/** One shard of a functions operator, as its feedback loop sees it. */
export interface FeedbackEndpoint {
  /**
   * Takes an entry from shard `sender` (for a message: one the receiver owns the address of) into
   * its unbounded inbox; handled later, as a mail, in the order its sender sent them.
   */
  deliver(sender: number, entry: InboxEntry): void;
  /** Delayed messages this shard still has to send (its processing-time timers). */
  readonly pendingDelayed: number;
  /** Every shard of the loop finished together: nothing will be sent any more. */
  quiet(): void;
}

/** The key under which a shard host offers its FeedbackNetwork in `OperatorContext.threadShared`. */
export const FEEDBACK_NETWORK = "functions-feedback-network";

/** Loop control messages (termination detection), `[kind, uid, …]`. */
const REPORT = 0; // [REPORT, uid, location, sent, received]: a participant turned passive
const PROBE = 1; // [PROBE, uid, round]
const ANSWER = 2; // [ANSWER, uid, round, location, passive (0|1), sent, received]
const QUIET = 3; // [QUIET, uid]: the loop terminated

/**
 * The feedback path of one functions operator on one thread: how its shards send each other
 * (and themselves) messages, and how they agree that they are done.
 *
 * The job graph stays a DAG for users; messages between functions travel here instead of on a
 * channel. A credit-bounded channel on a cycle can deadlock (shard A waits for credit from B while
 * B waits for A), so this path is unbounded: every shard's inbox is a plain queue, and
 * backpressure applies to ingress only, through the operator's input channels. Messages from one
 * shard to another arrive in the order sent.
 *
 * Shards on this thread get entries straight into their inbox. Shards on other threads or nodes
 * are reached through the host's FeedbackNetwork (found in `OperatorContext.threadShared`):
 * batched per destination thread and sent over the MessagePort between the two threads or over
 * NATS, in order per pair of shards. Each thread with shards of the operator has one loop, a
 * *participant*.
 *
 * Termination: a shard's input may end while others still send it messages. Each shard's
 * `finish` waits on the loop; once every shard of the operator has finished its input, no
 * message is in flight and no delayed message is pending, all of them finish together. With one
 * participant that is a local count; with several, the participant of shard 0 runs a
 * TerminationCoordinator (message counting, two identical observations: see there) and tells
 * every participant when the loop is quiet.
 *
 * Checkpoints: every shard puts a marker into every inbox right after its snapshot (`mark`), so a
 * receiver can tell the messages that crossed the cut (recorded with its snapshot) from those sent
 * after it (held until its own snapshot): see LoopRecorder. Markers travel like messages, on the
 * same ordered paths, and count as in flight like them, so the loop finishes only once every
 * marker was taken.
 *
 * Thread: the loop's; every call runs on it.
 */
export class FeedbackLoop implements NetworkedLoop {
  private readonly endpoints: Array<FeedbackEndpoint | undefined>;
  /** Entries posted to (or received for) shards of this thread and not yet taken. */
  private inFlight = 0;
  /** Shards whose input ended, with the resolver of their `finish`. */
  private readonly finishing = new Map<number, () => void>();
  private quietNow = false;
  /** Per shard: the outbox of its thread, for shards elsewhere (made on first use). */
  private readonly outboxes: Array<Outbox | undefined>;
  /** Location index of every participant, ascending; empty without a network. */
  private readonly participants: number[] = [];
  /** Shards of the operator on this thread (by placement). */
  private readonly localShards: number = 0;
  /** Entries sent to and received from other participants (termination detection). */
  private sent = 0;
  private received = 0;
  /** The counts last reported to the coordinator (or answered passive), -1: none. */
  private reportedSent = -1;
  private reportedReceived = -1;
  private readonly coordinator: TerminationCoordinator | undefined;
  private readonly coordinatorAt: number = 0;

  constructor(
    readonly parallelism: number,
    private readonly network?: FeedbackNetwork,
    private readonly uid = "",
  ) {
    this.endpoints = new Array(parallelism).fill(undefined);
    this.outboxes = new Array(parallelism).fill(undefined);
    if (network === undefined) return;
    const locations = new Set<number>();
    for (let shard = 0; shard < parallelism; shard++) {
      const location = network.locate(shard);
      locations.add(location);
      if (location === network.here) this.localShards++;
    }
    this.participants = [...locations].sort((a, b) => a - b);
    if (this.participants.length === 1) return;
    this.coordinatorAt = network.locate(0);
    network.register(uid, this);
    if (this.coordinatorAt === network.here) {
      this.coordinator = new TerminationCoordinator({
        participants: this.participants,
        probe: (round) => {
          for (const location of this.participants) network.control(location, [PROBE, uid, round]);
        },
        quiet: () => {
          for (const location of this.participants) network.control(location, [QUIET, uid]);
        },
      });
    }
  }

  /** The loop of the functions operator `uid` on this thread (made by its first shard). */
  static of(context: OperatorContext, parallelism: number): FeedbackLoop {
    const shared = context.threadShared;
    if (shared === undefined) return new FeedbackLoop(parallelism);
    const uid = context.runtime.operatorUid;
    const key = `functions-feedback:${uid}`;
    let loop = shared.get(key) as FeedbackLoop | undefined;
    if (loop === undefined) {
      loop = new FeedbackLoop(parallelism, shared.get(FEEDBACK_NETWORK) as FeedbackNetwork | undefined, uid);
      shared.set(key, loop);
    }
    return loop;
  }

  join(shardIndex: number, endpoint: FeedbackEndpoint): void {
    this.endpoints[shardIndex] = endpoint;
  }

  /** Shards of the operator this loop cannot reach (not on this thread, and no link to theirs). */
  missing(): number[] {
    const missing: number[] = [];
    this.endpoints.forEach((endpoint, index) => {
      if (endpoint !== undefined) return;
      const network = this.network;
      if (network === undefined) {
        missing.push(index);
        return;
      }
      const location = network.locate(index);
      if (location === network.here || !network.canReach(location)) missing.push(index);
    });
    return missing;
  }

  /** True once every shard finished: nothing is sent any more. */
  get isQuiet(): boolean {
    return this.quietNow;
  }

  /** Shard `sender` sends a message to shard `target`, which owns its address (possibly `sender` itself). */
  post(sender: number, target: number, entry: InboxEntry): void {
    const endpoint = this.endpoints[target];
    if (endpoint !== undefined) {
      this.inFlight++;
      endpoint.deliver(sender, entry);
      return;
    }
    const network = this.network as FeedbackNetwork;
    let box = this.outboxes[target];
    if (box === undefined) {
      box = network.outbox(this.uid, network.locate(target));
      this.outboxes[target] = box;
    }
    this.sent++;
    network.post(box, sender, target, entry);
  }

  /** Shard `sender` snapshotted checkpoint `checkpointId`: its marker goes to every shard, behind what it sent before. */
  mark(sender: number, checkpointId: number): void {
    if (this.quietNow) return;
    for (let target = 0; target < this.parallelism; target++) this.post(sender, target, checkpointId);
  }

  /** An entry from shard `sender` on another thread, for shard `target` of this one (NetworkedLoop). */
  receive(sender: number, target: number, entry: InboxEntry): void {
    const endpoint = this.endpoints[target];
    if (endpoint === undefined) {
      throw new FeedbackProtocolError(`operator "${this.uid}": an entry for shard ${target}, which is not here`);
    }
    this.received++;
    this.inFlight++;
    endpoint.deliver(sender, entry);
  }

  /** A shard took a posted message (or marker) from its inbox. */
  taken(): void {
    this.inFlight--;
  }

  /** Shard `shardIndex`'s input ended: resolves once the whole operator is quiet. */
  finish(shardIndex: number): Promise<void> {
    const done = new Promise<void>((resolve) => this.finishing.set(shardIndex, resolve));
    this.check();
    return done;
  }

  /**
   * Finishes every shard once all inputs ended, no message is in flight and no delayed one
   * pending; with other participants, reports this one's passive counts to the coordinator instead.
   */
  check(): void {
    if (this.quietNow || !this.passive()) return;
    if (this.participants.length <= 1) {
      this.becomeQuiet();
      return;
    }
    if (this.sent === this.reportedSent && this.received === this.reportedReceived) return;
    this.reportedSent = this.sent;
    this.reportedReceived = this.received;
    (this.network as FeedbackNetwork).control(this.coordinatorAt, [
      REPORT,
      this.uid,
      (this.network as FeedbackNetwork).here,
      this.sent,
      this.received,
    ]);
  }

  /** Every input here ended, nothing here is in flight and no delayed message is pending. */
  private passive(): boolean {
    const expected = this.network === undefined ? this.parallelism : this.localShards;
    if (this.finishing.size < expected || this.inFlight > 0) return false;
    for (const endpoint of this.endpoints) {
      if (endpoint === undefined) {
        if (this.network === undefined) return false;
        continue;
      }
      if (endpoint.pendingDelayed > 0) return false;
    }
    return true;
  }

  /** A loop control message for this participant (NetworkedLoop). */
  control(message: readonly unknown[]): void {
    const network = this.network as FeedbackNetwork;
    switch (message[0]) {
      case REPORT:
        this.coordinatorOf(message).onPassive(message[2] as number, counts(message[3], message[4]));
        return;
      case PROBE: {
        const passive = !this.quietNow && this.passive();
        if (passive) {
          this.reportedSent = this.sent;
          this.reportedReceived = this.received;
        }
        network.control(this.coordinatorAt, [
          ANSWER,
          this.uid,
          message[2],
          network.here,
          passive ? 1 : 0,
          this.sent,
          this.received,
        ]);
        return;
      }
      case ANSWER:
        this.coordinatorOf(message).onAnswer(
          message[2] as number,
          message[3] as number,
          message[4] === 1 ? counts(message[5], message[6]) : undefined,
        );
        return;
      case QUIET:
        this.becomeQuiet();
        return;
      default:
        throw new FeedbackProtocolError(`operator "${this.uid}": unknown loop control message ${String(message[0])}`);
    }
  }

  private coordinatorOf(message: readonly unknown[]): TerminationCoordinator {
    if (this.coordinator === undefined) {
      throw new FeedbackProtocolError(
        `operator "${this.uid}": control message ${String(message[0])} off the coordinator`,
      );
    }
    return this.coordinator;
  }

  private becomeQuiet(): void {
    if (this.quietNow) return;
    const resolvers = [...this.finishing.values()];
    this.finishing.clear();
    this.quietNow = true;
    for (const endpoint of this.endpoints) endpoint?.quiet();
    for (const resolve of resolvers) resolve();
  }
}

function counts(sent: unknown, received: unknown): LoopCounts {
  return { sent: sent as number, received: received as number };
}
