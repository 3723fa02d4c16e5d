import type { StreamElement } from "../element/stream-element.js";

/**
 * The ordered queue of a shard: elements from all its input channels, each tagged with the
 * channel it came on, taken one at a time and run to completion. Single-threaded: put and take
 * happen on the shard's thread. Two parallel arrays with a moving head, so steady state
 * allocates nothing per element.
 */
export class Mailbox {
  private channels: number[] = [];
  private elements: StreamElement[] = [];
  private head = 0;

  get size(): number {
    return this.elements.length - this.head;
  }

  isEmpty(): boolean {
    return this.head === this.elements.length;
  }

  put(channel: number, element: StreamElement): void {
    this.channels.push(channel);
    this.elements.push(element);
  }

  /** Channel of the next element; call before `take`. */
  peekChannel(): number {
    return this.channels[this.head] as number;
  }

  take(): StreamElement {
    const element = this.elements[this.head] as StreamElement;
    (this.elements as unknown[])[this.head] = undefined;
    this.head++;
    if (this.head === this.elements.length) {
      this.head = 0;
      this.elements.length = 0;
      this.channels.length = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.elements.length) {
      this.elements = this.elements.slice(this.head);
      this.channels = this.channels.slice(this.head);
      this.head = 0;
    }
    return element;
  }

  /** Visits the queued elements in order, without taking them, until `visit` returns false. */
  forEachQueued(visit: (channel: number, element: StreamElement) => boolean): void {
    for (let i = this.head; i < this.elements.length; i++) {
      if (!visit(this.channels[i] as number, this.elements[i] as StreamElement)) return;
    }
  }

  clear(): void {
    this.channels = [];
    this.elements = [];
    this.head = 0;
    this.mails = [];
  }

  /**
   * Mails are actions for the shard's thread that are not stream elements: processing-time
   * timers, periodic watermarks. They run before the next element, in the order put.
   */
  private mails: Array<() => void> = [];

  putMail(mail: () => void): void {
    this.mails.push(mail);
  }

  hasMail(): boolean {
    return this.mails.length > 0;
  }

  /** Takes every pending mail (mails put while running them wait for the next round). */
  takeMails(): Array<() => void> {
    const mails = this.mails;
    this.mails = [];
    return mails;
  }
}
