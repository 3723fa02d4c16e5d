import type { MessagePort } from "node:worker_threads";
import { decodeElement, encodeElementCopy } from "../codec/element-codec.js";
import type { StreamElement } from "../element/stream-element.js";
import type { ChannelReader, InputGate } from "./channel.js";
import { CreditedWriter } from "./credited-writer.js";

/**
 * One MessagePort between two threads of a process, shared by every channel between them.
 * Elements travel msgpackr-encoded in a transferred ArrayBuffer (no structured clone of
 * records); each consumed batch returns its credit at once.
 */
export class PortLink {
  private readonly writers = new Map<number, PortChannelWriter>();
  private readonly readers = new Map<number, { gate: InputGate; inputChannel: number }>();
  private feedback: ((bytes: Uint8Array) => void) | undefined;

  constructor(private readonly port: MessagePort) {
    port.on("message", (message: PortMessage) => this.receive(message));
  }

  /** @internal */
  registerWriter(writer: PortChannelWriter): void {
    this.writers.set(writer.channelId, writer);
  }

  /** Routes elements of `channelId` arriving on this port to the consumer's gate. */
  registerReader(channelId: number, gate: InputGate, inputChannel: number): void {
    this.readers.set(channelId, { gate, inputChannel });
  }

  /** @internal */
  postElement(channelId: number, element: StreamElement): void {
    // Cloned, not transferred: a transfer detaches the buffer, and the first detach on a thread
    // makes every typed array access of its optimized code check for one from then on (about a
    // fifth of the counting benchmark's throughput; see state/column-buffers.ts). The clone's
    // copy of a batch costs far less.
    this.port.postMessage({ c: channelId, b: encodeElementCopy(element) });
  }

  /**
   * @internal Returns one batch of credit. Sent at once: a message per consumed batch is cheap
   * next to the batch, and a producer waiting for credit until the end of this thread's scheduler
   * tick (up to 4 ms) measured 30% less throughput on a rebalance edge.
   */
  addCredit(channelId: number): void {
    this.port.postMessage({ k: channelId });
  }

  /**
   * Sends an encoded batch of messages between per-key functions (handler/feedback-network.ts),
   * cloned as batches are. Not a channel: no credit (the feedback loop is unbounded so that
   * cycles cannot deadlock), but the same port, so batches arrive in the order sent.
   */
  postFeedback(bytes: Uint8Array): void {
    this.port.postMessage({ f: bytes });
  }

  /** Where feedback batches arriving on this port go. */
  onFeedback(handler: (bytes: Uint8Array) => void): void {
    this.feedback = handler;
  }

  private receive(message: PortMessage): void {
    if (message.f !== undefined) {
      this.feedback?.(message.f);
      return;
    }
    if (message.k !== undefined) {
      this.writers.get(message.k)?.grant(1);
      return;
    }
    const reader = this.readers.get(message.c as number);
    if (reader === undefined) return;
    reader.gate.deliver(reader.inputChannel, decodeElement(message.b as Uint8Array));
  }

  close(): void {
    this.port.close();
  }
}

interface PortMessage {
  /** Channel of an element. */
  readonly c?: number;
  /** The encoded element. */
  readonly b?: Uint8Array;
  /** A channel granted one batch of credit. */
  readonly k?: number;
  /** A batch of feedback entries between per-key functions. */
  readonly f?: Uint8Array;
}

/**
 * How many times the job's batch size a batch between threads holds. Each batch is a message
 * to another thread and a credit message back, and waking a thread costs far more than a record:
 * on the keyed-sum benchmark at parallelism 2 (half the records cross), batches of 4000 instead
 * of 1000 measured 7.5–8.7 M records/s against 6.2–6.6 (best of 3–5 runs); on one thread the
 * batch size made no difference. Credit counts batches, so each channel holds up to 4× the
 * records in flight.
 */
export const CROSS_THREAD_BATCH_FACTOR = 4;

/** The producer end of a channel whose consumer is on another thread. */
export class PortChannelWriter extends CreditedWriter {
  protected override readonly overdraftAtBarrier = true;

  constructor(
    channelId: number,
    private readonly link: PortLink,
    credit: number,
    /** Records per batch on this channel (see CROSS_THREAD_BATCH_FACTOR); undefined: the job's. */
    readonly recordsPerBatch?: number,
  ) {
    super(channelId, credit);
    link.registerWriter(this);
  }

  protected transmit(element: StreamElement): void {
    this.link.postElement(this.channelId, element);
  }

  /** @internal */
  grant(n: number): void {
    this.addCredit(n);
  }
}

/** The consumer end of a channel whose producer is on another thread. */
export class PortChannelReader implements ChannelReader {
  constructor(
    readonly channelId: number,
    private readonly link: PortLink,
    gate: InputGate,
    inputChannel: number,
  ) {
    link.registerReader(channelId, gate, inputChannel);
  }

  release(): void {
    this.link.addCredit(this.channelId);
  }

  close(): void {}
}
