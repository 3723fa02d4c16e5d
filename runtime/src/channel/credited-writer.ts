import type { Barrier, StreamElement } from "../element/stream-element.js";
import type { ChannelWriter } from "./channel.js";

/**
 * The producer half shared by every channel: credit accounting and an in-order backlog.
 * Subclasses only say how an element is transmitted.
 */
export abstract class CreditedWriter implements ChannelWriter {
  private credit: number;
  private readonly backlog: StreamElement[] = [];
  private listeners: Array<() => void> = [];
  protected closed = false;

  constructor(
    readonly channelId: number,
    initialCredit: number,
  ) {
    this.credit = initialCredit;
  }

  /** Puts an element on the wire; called in send order, only when credit allows. */
  protected abstract transmit(element: StreamElement): void;

  send(element: StreamElement): void {
    if (this.backlog.length === 0 && (element.kind !== "records" || this.credit > 0)) {
      if (element.kind === "records") this.credit--;
      this.transmit(element);
    } else {
      this.backlog.push(element);
    }
  }

  /**
   * Whether the consumer takes batches beyond its grant when an unaligned barrier hands over the
   * backlog (see ChannelWriter.sendPriority); false where the consumer enforces its grant.
   */
  protected readonly overdraftAtBarrier: boolean = false;

  sendPriority(barrier: Barrier): void {
    if (this.overdraftAtBarrier && this.backlog.length > 0) {
      // Credit may go below zero: the batches handed over now are paid back by later releases.
      for (const element of this.backlog) {
        if (element.kind === "records") this.credit--;
        this.transmit(element);
      }
      this.backlog.length = 0;
    }
    this.send(barrier);
  }

  isWritable(): boolean {
    return this.backlog.length === 0 && this.credit > 0;
  }

  onWritable(listener: () => void): void {
    if (this.isWritable()) listener();
    else this.listeners.push(listener);
  }

  /** The consumer granted `n` more batches. */
  protected addCredit(n: number): void {
    this.credit += n;
    this.drain();
  }

  /**
   * The consumer's grant as an absolute count of batches it will accept in total (idempotent;
   * lost grants heal). `totalTransmitted` counts the batches this writer put on the wire so far
   * (not those still in its backlog: `drain` takes their credit as it transmits them).
   */
  protected setCreditTotal(totalGranted: number, totalTransmitted: number): void {
    const credit = totalGranted - totalTransmitted;
    // A stale or duplicated grant never takes credit back.
    if (credit > this.credit) this.credit = credit;
    this.drain();
  }

  private drain(): void {
    let i = 0;
    while (i < this.backlog.length) {
      const element = this.backlog[i] as StreamElement;
      if (element.kind === "records") {
        if (this.credit <= 0) break;
        this.credit--;
      }
      this.transmit(element);
      i++;
    }
    if (i > 0) this.backlog.splice(0, i);
    if (this.isWritable() && this.listeners.length > 0) {
      const listeners = this.listeners;
      this.listeners = [];
      for (const listener of listeners) listener();
    }
  }

  close(): void {
    this.closed = true;
    this.listeners = [];
  }
}
