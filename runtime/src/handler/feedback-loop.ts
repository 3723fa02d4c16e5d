import type { OperatorContext } from "../operator/operator.js";

/**
 * A message inside a functions operator: to an address, from the function that sent it (absent
 * for ingress), or — with `cancel` — the cancellation of a delayed message that `to` scheduled,
 * sent by another address. Plain data, so it can cross threads and nodes once the loop does.
 */
export interface Envelope {
  readonly to: { readonly type: string; readonly id: string };
  readonly from?: { readonly type: string; readonly id: string } | undefined;
  readonly message?: unknown;
  readonly cancel?: string;
}

/**
 * An entry of a shard's inbox: a message (or cancellation), or — a number — the marker of a
 * checkpoint, which its sender puts into every inbox right after its snapshot of that checkpoint.
 */
export type InboxEntry = Envelope | number;

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
 * Termination: a shard's input may end while others still send it messages. Each shard's
 * `finish` waits on the loop; once every shard of the operator has finished its input, no
 * message is in flight and no delayed message is pending, all of them finish together.
 *
 * Checkpoints: every shard puts a marker into every inbox right after its snapshot (`mark`), so a
 * receiver can tell the messages that crossed the cut (recorded with its snapshot) from those sent
 * after it (held until its own snapshot): see LoopRecorder. Markers count as in flight like
 * messages, so the loop finishes only once every marker was taken.
 *
 * Single-threaded: every shard of the loop runs on the thread that made it (for now; see
 * runtime/README.md, "Per-key functions").
 */
export class FeedbackLoop {
  private readonly endpoints: Array<FeedbackEndpoint | undefined>;
  /** Messages posted and not yet taken by their shard. */
  private inFlight = 0;
  /** Shards whose input ended, with the resolver of their `finish`. */
  private readonly finishing = new Map<number, () => void>();

  constructor(readonly parallelism: number) {
    this.endpoints = new Array(parallelism).fill(undefined);
  }

  /** The loop of the functions operator `uid` on this thread (made by its first shard). */
  static of(context: OperatorContext, parallelism: number): FeedbackLoop {
    const shared = context.threadShared;
    if (shared === undefined) return new FeedbackLoop(parallelism);
    const key = `functions-feedback:${context.runtime.operatorUid}`;
    let loop = shared.get(key) as FeedbackLoop | undefined;
    if (loop === undefined) {
      loop = new FeedbackLoop(parallelism);
      shared.set(key, loop);
    }
    return loop;
  }

  join(shardIndex: number, endpoint: FeedbackEndpoint): void {
    this.endpoints[shardIndex] = endpoint;
  }

  /** Shards of the operator that are not on this loop (on another thread or node). */
  missing(): number[] {
    const missing: number[] = [];
    this.endpoints.forEach((endpoint, index) => {
      if (endpoint === undefined) missing.push(index);
    });
    return missing;
  }

  /** True once every shard finished: nothing is sent any more. */
  get isQuiet(): boolean {
    return this.quietNow;
  }
  private quietNow = false;

  /** Shard `sender` sends a message to shard `target`, which owns its address (possibly `sender` itself). */
  post(sender: number, target: number, envelope: Envelope): void {
    this.inFlight++;
    (this.endpoints[target] as FeedbackEndpoint).deliver(sender, envelope);
  }

  /** Shard `sender` snapshotted checkpoint `checkpointId`: its marker goes to every shard, behind what it sent before. */
  mark(sender: number, checkpointId: number): void {
    if (this.quietNow) return;
    for (const endpoint of this.endpoints) {
      this.inFlight++;
      (endpoint as FeedbackEndpoint).deliver(sender, checkpointId);
    }
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

  /** Finishes every shard once all inputs ended, no message is in flight and no delayed one pending. */
  check(): void {
    if (this.finishing.size < this.parallelism || this.inFlight > 0) return;
    for (const endpoint of this.endpoints) if (endpoint === undefined || endpoint.pendingDelayed > 0) return;
    const resolvers = [...this.finishing.values()];
    this.finishing.clear();
    this.quietNow = true;
    for (const endpoint of this.endpoints) (endpoint as FeedbackEndpoint).quiet();
    for (const resolve of resolvers) resolve();
  }
}
