import type { ChannelReader, InputGate } from "../channel/channel.js";
import { CreditedWriter } from "../channel/credited-writer.js";
import type { StreamElement } from "../element/stream-element.js";
import { CreditViolationError } from "./errors.js";
import { decodeTotal, type LinkReader, type LinkWriter, type NatsLink } from "./nats-link.js";

/** Default interval at which a writer without credit asks its reader to repeat the grant, in ms. */
export const DEFAULT_ASK_INTERVAL_MS = 100;

export interface NatsChannelWriterOptions {
  readonly link: NatsLink;
  /** The channel's id in the execution plan (the same on every node). */
  readonly channelId: number;
  /** The channel's edge and target shard: they name the subject it publishes on. */
  readonly edge: number;
  readonly targetShard: number;
  /** How often, while it has no credit, the writer asks for the reader's current grant, in ms. Default 100. */
  readonly askIntervalMs?: number;
}

/**
 * The producer end of a channel whose consumer is on another node. Elements go msgpackr-encoded
 * on `kf.<jobId>.e<edge>.s<targetShard>`, prefixed with the channel id.
 *
 * Credit: the writer starts with none and sends nothing — not even a watermark — until the
 * reader's first grant arrives, since core NATS drops messages nobody is subscribed to yet and a
 * grant proves the reader's subscription is in place. Grants are absolute totals ("up to N
 * batches in all"), so a lost grant is healed by the next and a duplicate changes nothing; while
 * it has no credit the writer asks for the current total every `askIntervalMs`, which also covers
 * a first grant published before the writer subscribed to grants.
 * Ordering: elements are published in send order from one connection, and NATS keeps that order.
 * Thread: the node's main thread (the shard's and the link's).
 * Lifecycle: open -> done (end-of-input published, or closed).
 */
export class NatsChannelWriter extends CreditedWriter implements LinkWriter {
  private readonly link: NatsLink;
  private readonly subject: string;
  private readonly askSubject: string;
  private readonly askIntervalMs: number;
  private readonly creditSubscription: { unsubscribe(): void };
  /** Record batches published so far. */
  private transmitted = 0;
  /** The highest grant total heard. */
  private granted = 0;
  /** Set by the first grant: from then on the reader is known to be subscribed. */
  private connected = false;
  /** Non-record elements sent before the first grant (records wait in the backlog for credit). */
  private early: StreamElement[] = [];
  private askTimer: NodeJS.Timeout | undefined;
  private isDone = false;

  constructor(options: NatsChannelWriterOptions) {
    super(options.channelId, 0);
    const { link } = options;
    this.link = link;
    this.subject = link.subjects.data(options.edge, options.targetShard);
    this.askSubject = link.subjects.ask(options.channelId);
    this.askIntervalMs = options.askIntervalMs ?? DEFAULT_ASK_INTERVAL_MS;
    this.creditSubscription = link.subscribe(link.subjects.credit(options.channelId), (data) =>
      this.grant(decodeTotal(data)),
    );
    link.registerWriter(this);
    this.link.publish(this.askSubject);
    this.startAsking();
  }

  /** True once end-of-input was published or the writer was closed. */
  get done(): boolean {
    return this.isDone;
  }

  /** Record batches published so far (for tests and metrics). */
  get transmittedBatches(): number {
    return this.transmitted;
  }

  protected transmit(element: StreamElement): void {
    if (!this.connected) {
      this.early.push(element);
      return;
    }
    this.link.publishElement(this.subject, this.channelId, element);
    if (element.kind === "records") {
      this.transmitted++;
      if (this.transmitted >= this.granted) this.startAsking();
    } else if (element.kind === "end") {
      this.finish();
    }
  }

  private grant(total: number): void {
    if (this.isDone || !Number.isFinite(total)) return;
    if (!this.connected) {
      this.connected = true;
      const early = this.early;
      this.early = [];
      for (const element of early) this.transmit(element);
      if (this.isDone) return;
    }
    if (total > this.granted) this.granted = total;
    this.setCreditTotal(this.granted, this.transmitted);
    if (this.isDone) return;
    if (this.granted > this.transmitted) this.stopAsking();
    else this.startAsking();
  }

  private startAsking(): void {
    if (this.askTimer !== undefined || this.isDone) return;
    this.askTimer = setInterval(() => this.link.publish(this.askSubject), this.askIntervalMs);
    // Asking never keeps a process alive on its own: the node's lifecycle decides when it ends.
    this.askTimer.unref();
  }

  private stopAsking(): void {
    if (this.askTimer === undefined) return;
    clearInterval(this.askTimer);
    this.askTimer = undefined;
  }

  private finish(): void {
    if (this.isDone) return;
    this.isDone = true;
    this.stopAsking();
    this.creditSubscription.unsubscribe();
    this.link.writerDone();
  }

  override close(): void {
    super.close();
    this.finish();
  }
}

export interface NatsChannelReaderOptions {
  readonly link: NatsLink;
  readonly channelId: number;
  readonly edge: number;
  readonly targetShard: number;
  /** Where elements go: the consumer shard. */
  readonly gate: InputGate;
  /** This channel's index among the consumer's input channels. */
  readonly inputChannel: number;
  /** Record batches granted up front. */
  readonly credit: number;
}

/**
 * The consumer end of a channel whose producer is on another node. On creation it subscribes
 * (the subject of its edge and shard is shared with the other channels into that shard), listens
 * for asks, and then publishes its first grant: `credit` batches in total. Each `release` raises
 * the total by one; grants are published at the link's next `flushCredits`, asks are answered at
 * once.
 *
 * Guarantee: a writer never has more batches on the wire than granted; should more arrive, the
 * link fails with CreditViolationError instead of letting memory grow.
 * Thread: the node's main thread. Lifecycle: open -> closed.
 */
export class NatsChannelReader implements ChannelReader, LinkReader {
  readonly channelId: number;
  private readonly link: NatsLink;
  private readonly edge: number;
  private readonly targetShard: number;
  private readonly gate: InputGate;
  private readonly inputChannel: number;
  private readonly askSubscription: { unsubscribe(): void };
  private granted: number;
  private received = 0;
  private closed = false;

  constructor(options: NatsChannelReaderOptions) {
    this.channelId = options.channelId;
    this.link = options.link;
    this.edge = options.edge;
    this.targetShard = options.targetShard;
    this.gate = options.gate;
    this.inputChannel = options.inputChannel;
    this.granted = options.credit;
    this.link.openInput(this.edge, this.targetShard, this);
    this.askSubscription = this.link.subscribe(this.link.subjects.ask(this.channelId), () => this.link.grantNow(this));
    // After the subscriptions: the server sees them before this grant, so the writer's first
    // element, sent only once it heard a grant, finds them in place.
    this.link.grantNow(this);
  }

  get grantedTotal(): number {
    return this.granted;
  }

  /** Record batches received so far (for tests and metrics). */
  get receivedBatches(): number {
    return this.received;
  }

  /** @internal Called by the link with this channel's elements, in order. */
  receive(element: StreamElement): void {
    if (this.closed) return;
    if (element.kind === "records") {
      this.received++;
      if (this.received > this.granted) throw new CreditViolationError(this.channelId, this.received, this.granted);
    }
    this.gate.deliver(this.inputChannel, element);
  }

  release(): void {
    this.granted++;
    this.link.grantLater(this);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.askSubscription.unsubscribe();
    this.link.closeInput(this.edge, this.targetShard, this);
  }
}
