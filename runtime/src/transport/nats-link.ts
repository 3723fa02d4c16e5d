import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { decodeElement, decodeValue, encodeElement, encodeValue } from "../codec/element-codec.js";
import type { StreamElement } from "../element/stream-element.js";
import { CorruptMessageError, ElementTooLargeError, NatsDisconnectedError } from "./errors.js";
import { JobSubjects } from "./job-subjects.js";

/** The receiving side of one channel, as the link sees it. */
export interface LinkReader {
  readonly channelId: number;
  /** The reader's current grant: record batches it accepts in total since the channel opened. */
  readonly grantedTotal: number;
  /** An element of this channel arrived, in the order its writer sent it. */
  receive(element: StreamElement): void;
}

/** The sending side of one channel, as the link sees it. */
export interface LinkWriter {
  /** True once the writer put end-of-input on the wire, or was closed. */
  readonly done: boolean;
}

export interface NatsLinkOptions {
  /** The open connection; the link owns it from now on and closes it in `drain` or `close`. */
  readonly connection: NatsConnection;
  /** The URL it was opened with, for error messages. */
  readonly url: string;
  /** The job whose subjects this link uses. */
  readonly jobId: string;
}

/**
 * One node's connection to NATS for one job, shared by all its cross-node channels (NatsChannel)
 * and its control messages. Like PortLink for threads: it routes arriving elements to readers by
 * the channel id in their payload, and batches credit grants until `flushCredits` (once per
 * scheduler tick).
 *
 * Ordering: NATS keeps the order of messages from one connection to one subscription, and a
 * channel has exactly one writer on one link, so elements of a channel arrive in send order.
 * Thread: the node's main thread; subscription callbacks run on it between scheduler ticks.
 * Lifecycle: open -> (drain | close). A lost connection or a message that breaks the protocol
 * is fatal: `onError` listeners hear it once (lost elements cannot be recovered here).
 */
export class NatsLink {
  readonly subjects: JobSubjects;
  readonly url: string;
  private readonly nc: NatsConnection;
  private readonly inputs = new Map<string, { subscription: Subscription; readers: Map<number, LinkReader> }>();
  private readonly pendingGrants = new Set<LinkReader>();
  private readonly writers = new Set<LinkWriter>();
  private writersDoneWaiters: Array<() => void> = [];
  private errorListeners: Array<(error: Error) => void> = [];
  private failure: Error | undefined;
  private closing = false;

  constructor(options: NatsLinkOptions) {
    this.nc = options.connection;
    this.url = options.url;
    this.subjects = new JobSubjects(options.jobId);
    void this.watchStatus();
  }

  /** Calls `listener` with the first fatal error of this link (at once if it already failed). */
  onError(listener: (error: Error) => void): void {
    if (this.failure !== undefined) listener(this.failure);
    else this.errorListeners.push(listener);
  }

  /** Reports a fatal error; later ones are dropped, since the first one stops the node. */
  fail(error: Error): void {
    if (this.failure !== undefined || this.closing) return;
    this.failure = error;
    const listeners = this.errorListeners;
    this.errorListeners = [];
    for (const listener of listeners) listener(error);
  }

  /**
   * Delivers the elements of channel `reader.channelId` on subject (edge, targetShard) to
   * `reader`. The first reader of a subject subscribes; the subscription reaches the server
   * before anything this link publishes afterwards (the reader's first grant included).
   */
  openInput(edge: number, targetShard: number, reader: LinkReader): void {
    const subject = this.subjects.data(edge, targetShard);
    let input = this.inputs.get(subject);
    if (input === undefined) {
      const readers = new Map<number, LinkReader>();
      const subscription = this.subscribe(subject, (data) => this.route(subject, readers, data));
      input = { subscription, readers };
      this.inputs.set(subject, input);
    }
    input.readers.set(reader.channelId, reader);
  }

  /** Stops delivering to `reader`; the subject's subscription ends with its last reader. */
  closeInput(edge: number, targetShard: number, reader: LinkReader): void {
    const subject = this.subjects.data(edge, targetShard);
    const input = this.inputs.get(subject);
    if (input === undefined || input.readers.get(reader.channelId) !== reader) return;
    input.readers.delete(reader.channelId);
    this.pendingGrants.delete(reader);
    if (input.readers.size === 0) {
      this.inputs.delete(subject);
      if (!this.nc.isClosed()) input.subscription.unsubscribe();
    }
  }

  private route(subject: string, readers: Map<number, LinkReader>, data: Uint8Array): void {
    if (data.length < 4) throw new CorruptMessageError(subject, `a payload of ${data.length} bytes has no channel id`);
    const channelId = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0);
    const reader = readers.get(channelId);
    if (reader === undefined) throw new CorruptMessageError(subject, `no reader for channel ${channelId} here`);
    let element: StreamElement;
    try {
      element = decodeElement(data.subarray(4));
    } catch (error) {
      throw new CorruptMessageError(subject, `channel ${channelId}: undecodable element`, { cause: error });
    }
    reader.receive(element);
  }

  /** Publishes one element of `channelId` on `subject`. Throws ElementTooLargeError above max_payload. */
  publishElement(subject: string, channelId: number, element: StreamElement): void {
    const body = encodeElement(element);
    // A fresh buffer: the client queues it until a microtask later, while msgpackr reuses its own.
    const payload = new Uint8Array(4 + body.length);
    new DataView(payload.buffer).setUint32(0, channelId);
    payload.set(body, 4);
    const maxPayload = this.nc.info?.max_payload;
    if (maxPayload !== undefined && payload.length > maxPayload) {
      throw new ElementTooLargeError(channelId, payload.length, maxPayload);
    }
    this.nc.publish(subject, payload);
  }

  /** Queues `reader`'s grant for the next `flushCredits`. */
  grantLater(reader: LinkReader): void {
    this.pendingGrants.add(reader);
  }

  /** Publishes `reader`'s current grant now (an initial grant, or the answer to an ask). */
  grantNow(reader: LinkReader): void {
    this.pendingGrants.delete(reader);
    this.publishGrant(reader);
  }

  /** Publishes the grants queued since the last flush: one message per channel, carrying its total. */
  flushCredits(): void {
    if (this.pendingGrants.size === 0) return;
    for (const reader of this.pendingGrants) this.publishGrant(reader);
    this.pendingGrants.clear();
  }

  private publishGrant(reader: LinkReader): void {
    if (this.nc.isClosed() || this.nc.isDraining()) return;
    this.nc.publish(this.subjects.credit(reader.channelId), encodeTotal(reader.grantedTotal));
  }

  /** @internal Tracks a writer so `writersDone` can wait for its end-of-input to go out. */
  registerWriter(writer: LinkWriter): void {
    this.writers.add(writer);
  }

  /** @internal A writer became done. */
  writerDone(): void {
    if (!this.allWritersDone()) return;
    const waiters = this.writersDoneWaiters;
    this.writersDoneWaiters = [];
    for (const waiter of waiters) waiter();
  }

  /**
   * Resolves once every writer of this link has put end-of-input on the wire (or was closed).
   * A node whose shards finished waits for this before draining: an end-of-input may still sit
   * in a writer's backlog, waiting for a grant.
   */
  writersDone(): Promise<void> {
    if (this.allWritersDone()) return Promise.resolve();
    return new Promise((resolve) => this.writersDoneWaiters.push(resolve));
  }

  private allWritersDone(): boolean {
    for (const writer of this.writers) if (!writer.done) return false;
    return true;
  }

  /**
   * Calls `handler` with the payload of every message on `subject`, on the main thread. A throw
   * from the handler fails the link (it is a protocol or delivery error, not the sender's).
   */
  subscribe(subject: string, handler: (data: Uint8Array) => void): Subscription {
    return this.nc.subscribe(subject, {
      callback: (error, message) => {
        if (error !== null) {
          this.fail(error);
          return;
        }
        try {
          handler(message.data);
        } catch (thrown) {
          this.fail(thrown instanceof Error ? thrown : new Error(String(thrown)));
        }
      },
    });
  }

  /** The largest payload the server takes in one message (undefined before it said). */
  get maxPayload(): number | undefined {
    return this.nc.info?.max_payload;
  }

  /** Publishes raw bytes (a credit ask, for instance). */
  publish(subject: string, data: Uint8Array = EMPTY): void {
    if (this.nc.isClosed() || this.nc.isDraining()) return;
    this.nc.publish(subject, data);
  }

  /** Publishes a msgpack-encoded value (control messages). */
  publishValue(subject: string, value: unknown): void {
    this.publish(subject, encodeValue(value));
  }

  /** Calls `handler` with every msgpack-encoded value published on `subject`. */
  subscribeValues<T>(subject: string, handler: (value: T) => void): Subscription {
    return this.subscribe(subject, (data) => {
      let value: T;
      try {
        value = decodeValue<T>(data);
      } catch (error) {
        throw new CorruptMessageError(subject, "undecodable value", { cause: error });
      }
      handler(value);
    });
  }

  /**
   * Answers requests on `subject`: each msgpack-encoded request value goes to `handler`, and what
   * it resolves with is the reply. A handler that throws or rejects answers `{ error: message }`,
   * so the asker hears why instead of timing out.
   */
  serve(subject: string, handler: (value: unknown) => unknown): Subscription {
    return this.serveSome(subject, handler);
  }

  /**
   * `serve`, where the handler may leave a request to another server of the subject: resolving
   * with NO_REPLY sends nothing (several nodes hear a queryable-state request; the owner replies).
   */
  serveSome(subject: string, handler: (value: unknown) => unknown): Subscription {
    return this.nc.subscribe(subject, {
      callback: (error, message) => {
        if (error !== null) {
          this.fail(error);
          return;
        }
        void (async () => {
          let reply: unknown;
          try {
            reply = await handler(decodeValue<unknown>(message.data));
          } catch (thrown) {
            reply = { error: thrown instanceof Error ? thrown.message : String(thrown) };
          }
          if (reply !== NO_REPLY && !this.nc.isClosed()) message.respond(encodeValue(reply));
        })();
      },
    });
  }

  /** Asks whoever serves `subject` (see `serve`) and resolves with the decoded reply. */
  async request<T>(subject: string, value: unknown, timeoutMs: number): Promise<T> {
    const reply = await this.nc.request(subject, encodeValue(value), { timeout: timeoutMs });
    return decodeValue<T>(reply.data);
  }

  /** Resolves once the server has processed everything published so far. */
  async flush(): Promise<void> {
    if (this.nc.isClosed()) return;
    await this.nc.flush();
  }

  /**
   * Closes in order: what was received is handled, what was published reaches the server, then
   * the connection closes. No error is reported from now on.
   */
  async drain(): Promise<void> {
    this.closing = true;
    if (this.nc.isClosed() || this.nc.isDraining()) return this.closedQuietly();
    await this.nc.drain();
  }

  /** Closes at once, dropping what was not yet sent. No error is reported from now on. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.nc.isClosed()) return;
    await this.nc.close();
  }

  private async closedQuietly(): Promise<void> {
    await this.nc.closed();
  }

  private async watchStatus(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === "disconnect" || status.type === "staleConnection") {
        this.fail(new NatsDisconnectedError(this.url));
      }
    }
    const reason = await this.nc.closed();
    if (!this.closing) this.fail(new NatsDisconnectedError(this.url, reason === undefined ? {} : { cause: reason }));
  }
}

const EMPTY = new Uint8Array(0);

/** What a `serveSome` handler resolves with to leave a request unanswered (another server answers it). */
export const NO_REPLY: unique symbol = Symbol("no reply");

/** A grant total: a float64, exact for any count of batches a job will send. */
export function encodeTotal(total: number): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setFloat64(0, total);
  return bytes;
}

export function decodeTotal(data: Uint8Array): number {
  if (data.length !== 8) return Number.NaN;
  return new DataView(data.buffer, data.byteOffset, data.byteLength).getFloat64(0);
}
