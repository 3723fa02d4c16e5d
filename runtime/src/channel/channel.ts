import type { Barrier, StreamElement } from "../element/stream-element.js";

/**
 * A channel: an ordered, credit-flow-controlled link from one producer shard to one consumer
 * shard. Three implementations share this contract — same thread (LocalChannel), another thread
 * of this process (PortChannel), another node (NatsChannel) — and the shard does not know which
 * one it holds.
 *
 * Ordering: elements arrive in the order sent; a watermark, barrier or end-of-input never
 * overtakes a record batch sent before it.
 * Credit: the consumer grants credit in record batches. A batch sent without credit waits in the
 * writer's backlog (in order, with everything after it); the consumer never receives more batches
 * than it granted. The producer checks `isWritable()` before taking its next element, so a slow
 * consumer slows its producers and memory stays bounded by credits plus one element's output.
 */
export interface ChannelWriter {
  /** Index of this channel in the execution plan. */
  readonly channelId: number;
  /** Sends an element on the producer's thread; never drops, never blocks. */
  send(element: StreamElement): void;
  /**
   * Sends an unaligned checkpoint's barrier without waiting for credit, where the channel can:
   * the batches waiting in the backlog are handed over with it at once, beyond the consumer's
   * grant (by at most one element's output, which the producer held anyway), so the consumer
   * gets the barrier now and stores those batches as in-flight data. Order is kept. A channel
   * without it (NATS, whose consumer enforces its grant) sends the barrier behind its backlog.
   */
  sendPriority?(barrier: Barrier): void;
  /**
   * Records per batch on this channel, where it differs from the job's batch size: a channel
   * whose every batch is a message between threads takes larger ones (see PortChannelWriter).
   */
  readonly recordsPerBatch?: number;
  /** True when the backlog is empty and credit remains. */
  isWritable(): boolean;
  /** Calls `listener` once, the next time the writer becomes writable. */
  onWritable(listener: () => void): void;
  /** Releases the writer's resources (after end of input was sent, or on cancel). */
  close(): void;
}

/** Where a channel's receiving end delivers elements: the consumer shard, on its own thread. */
export interface InputGate {
  deliver(inputChannel: number, element: StreamElement): void;
}

/** The receiving end, held by the consumer shard. */
export interface ChannelReader {
  readonly channelId: number;
  /** Returns the credit of one consumed record batch to the producer. */
  release(): void;
  close(): void;
}

/** Default credit per channel, in batches: enough to keep a cross-thread pipeline full. */
export const DEFAULT_CHANNEL_CREDIT = 8;
