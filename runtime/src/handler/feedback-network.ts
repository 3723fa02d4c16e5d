import { decodeFeedbackBatch, encodeFeedbackBatch } from "../codec/feedback-codec.js";
import type { InboxEntry } from "./envelope.js";
import { FeedbackMessageTooLargeError, FeedbackProtocolError } from "./errors.js";

/** Sends one encoded feedback batch to another thread; the link keeps the order of what it sends. */
export type FeedbackSend = (bytes: Uint8Array) => void;

/** What a feedback loop hears from the network: entries for its shards here, and control messages. */
export interface NetworkedLoop {
  /** An entry another participant's shard `sender` posted to shard `target` of this thread. */
  receive(sender: number, target: number, entry: InboxEntry): void;
  /** A loop control message (termination detection) addressed to this thread. */
  control(message: readonly unknown[]): void;
}

export interface FeedbackNetworkOptions {
  /** This thread's location index: node × threads per node + thread. */
  readonly here: number;
  /** The location index of shard `shardIndex` of any operator (the static placement). */
  readonly locate: (shardIndex: number) => number;
  /** How to reach the thread at a location index; undefined when there is no way there. */
  readonly route: (location: number) => FeedbackSend | undefined;
  /** Entries in one message at most. Default 4096. */
  readonly maxEntriesPerMessage?: number;
  /** Bytes in one message at most (NATS's max_payload); a larger batch is split. Default: no limit. */
  readonly maxBytes?: () => number | undefined;
  /** Hears a failure to send (a message above `maxBytes`); default: thrown from the flush. */
  readonly onError?: (error: Error) => void;
}

/** The entries one loop posted to one destination since the last flush. */
export interface Outbox {
  readonly uid: string;
  readonly destination: number;
  /** `[sender, target, entry, …]`. */
  flat: unknown[];
}

const DEFAULT_MAX_ENTRIES = 4096;

/**
 * The transport of every feedback loop of one thread (a shard host) to the shards of those loops
 * on other threads and nodes. A loop posts an entry to a remote shard into the outbox of that
 * shard's thread; outboxes are sent, encoded (msgpackr, `codec/feedback-codec.ts`), as one message
 * per destination thread when the thread next yields (`setImmediate`: after the scheduler's tick
 * that posted them), split above `maxEntriesPerMessage` entries or `maxBytes`. Between threads of
 * a process the message goes over the MessagePort of the two threads (PortLink, a message kind of
 * its own beside channel elements and credit); between nodes over NATS, on the subject of the
 * target thread. Neither path has credit: the loop is unbounded so that cycles cannot deadlock.
 *
 * Ordering: each destination's outboxes are sent in posting order, one link per pair of threads,
 * and both links keep order, so entries from one shard to another arrive in the order sent, on
 * every path — checkpoint markers rely on it (LoopRecorder). Control messages (termination
 * detection) ride the same messages, unordered relative to entries (they need not be), and a
 * control message to this very thread is delivered at the flush, never synchronously.
 *
 * Thread: the host's. Lifecycle: made before the host's shards (they register their loops as
 * they are built), `receive` wired to the links, `close` when the host stops.
 */
export class FeedbackNetwork {
  readonly here: number;
  private readonly loops = new Map<string, NetworkedLoop>();
  private readonly routes = new Map<number, FeedbackSend | undefined>();
  private dirty: Outbox[] = [];
  private controls = new Map<number, Array<readonly unknown[]>>();
  private flushScheduled = false;
  private closed = false;
  private readonly maxEntries: number;

  constructor(private readonly options: FeedbackNetworkOptions) {
    this.here = options.here;
    this.maxEntries = options.maxEntriesPerMessage ?? DEFAULT_MAX_ENTRIES;
  }

  /** The location index of shard `shardIndex`. */
  locate(shardIndex: number): number {
    return this.options.locate(shardIndex);
  }

  /** Whether entries can reach the thread at `location`. */
  canReach(location: number): boolean {
    return location === this.here || this.routeTo(location) !== undefined;
  }

  /** Loop `uid` of this thread takes what arrives for it. */
  register(uid: string, loop: NetworkedLoop): void {
    this.loops.set(uid, loop);
  }

  /** A fresh outbox of loop `uid` to `destination`. */
  outbox(uid: string, destination: number): Outbox {
    return { uid, destination, flat: [] };
  }

  /** Puts an entry into `box` (the hot path: three pushes; the first of a flush also marks it). */
  post(box: Outbox, sender: number, target: number, entry: InboxEntry): void {
    if (box.flat.length === 0) {
      this.dirty.push(box);
      this.scheduleFlush();
    }
    box.flat.push(sender, target, entry);
  }

  /** Sends a loop control message to the thread at `destination` (this one included) at the next flush. */
  control(destination: number, message: readonly unknown[]): void {
    let list = this.controls.get(destination);
    if (list === undefined) {
      list = [];
      this.controls.set(destination, list);
    }
    list.push(message);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.closed) return;
    this.flushScheduled = true;
    setImmediate(this.flush);
  }

  /** Sends everything posted since the last flush. */
  readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.closed) return;
    try {
      this.flushNow();
    } catch (error) {
      const onError = this.options.onError;
      if (onError === undefined) throw error;
      onError(error instanceof Error ? error : new Error(String(error)));
    }
  };

  private flushNow(): void {
    const dirty = this.dirty;
    const controls = this.controls;
    this.dirty = [];
    this.controls = new Map();
    const byDestination = new Map<number, Array<[string, unknown[]]>>();
    for (const box of dirty) {
      let groups = byDestination.get(box.destination);
      if (groups === undefined) {
        groups = [];
        byDestination.set(box.destination, groups);
      }
      groups.push([box.uid, box.flat]);
      box.flat = [];
    }
    for (const [destination, groups] of byDestination) {
      this.send(destination, groups, controls.get(destination) ?? []);
      controls.delete(destination);
    }
    const local = controls.get(this.here);
    controls.delete(this.here);
    for (const [destination, list] of controls) this.send(destination, [], list);
    if (local !== undefined) for (const message of local) this.dispatchControl(message);
  }

  private send(destination: number, groups: Array<[string, unknown[]]>, controls: Array<readonly unknown[]>): void {
    const send = this.routeTo(destination);
    if (send === undefined) throw new FeedbackProtocolError(`no link to location ${destination}`);
    // Split above maxEntries: one message per chunk, in order.
    const maxFlat = this.maxEntries * 3;
    let pending: Array<[string, unknown[]]> = [];
    let size = 0;
    for (const [uid, flat] of groups) {
      for (let at = 0; at < flat.length; ) {
        const take = Math.min(flat.length - at, maxFlat - size);
        pending.push([uid, at === 0 && take === flat.length ? flat : flat.slice(at, at + take)]);
        size += take;
        at += take;
        if (size >= maxFlat) {
          this.sendSized(send, pending, []);
          pending = [];
          size = 0;
        }
      }
    }
    if (pending.length > 0 || controls.length > 0) this.sendSized(send, pending, controls);
  }

  /** Encodes and sends; halves a batch above `maxBytes` until each part fits. */
  private sendSized(send: FeedbackSend, groups: Array<[string, unknown[]]>, controls: Array<readonly unknown[]>): void {
    const bytes = encodeFeedbackBatch({ groups, controls });
    const max = this.options.maxBytes?.();
    if (max === undefined || bytes.length <= max) {
      send(bytes);
      return;
    }
    const entries = groups.reduce((n, [, flat]) => n + flat.length / 3, 0);
    if (entries <= 1) {
      throw new FeedbackMessageTooLargeError(bytes.length, max);
    }
    // Split the entries in two halves, keeping their order.
    const half = Math.ceil(entries / 2) * 3;
    const first: Array<[string, unknown[]]> = [];
    const second: Array<[string, unknown[]]> = [];
    let seen = 0;
    for (const [uid, flat] of groups) {
      if (seen + flat.length <= half) first.push([uid, flat]);
      else if (seen >= half) second.push([uid, flat]);
      else {
        first.push([uid, flat.slice(0, half - seen)]);
        second.push([uid, flat.slice(half - seen)]);
      }
      seen += flat.length;
    }
    this.sendSized(send, first, []);
    this.sendSized(send, second, controls);
  }

  /** A message from another thread: entries into their loops' inboxes, control messages to their loops. */
  receive(bytes: Uint8Array): void {
    if (this.closed) return;
    const batch = decodeFeedbackBatch(bytes);
    for (const [uid, flat] of batch.groups) {
      const loop = this.loopOf(uid);
      for (let i = 0; i < flat.length; i += 3) {
        loop.receive(flat[i] as number, flat[i + 1] as number, flat[i + 2] as InboxEntry);
      }
    }
    for (const message of batch.controls) this.dispatchControl(message);
  }

  /** Stops sending and receiving (the host stops). */
  close(): void {
    this.closed = true;
    this.dirty = [];
    this.controls.clear();
  }

  private dispatchControl(message: readonly unknown[]): void {
    this.loopOf(message[1] as string).control(message);
  }

  private loopOf(uid: string): NetworkedLoop {
    const loop = this.loops.get(uid);
    if (loop === undefined) throw new FeedbackProtocolError(`no functions operator "${uid}" on location ${this.here}`);
    return loop;
  }

  private routeTo(location: number): FeedbackSend | undefined {
    if (!this.routes.has(location)) this.routes.set(location, this.options.route(location));
    return this.routes.get(location);
  }
}
