import type { StreamElement } from "../element/stream-element.js";
import type { ChannelReader, InputGate } from "./channel.js";
import { CreditedWriter } from "./credited-writer.js";

/**
 * A channel between two shards on the same thread: elements are handed over as they are, with
 * no encoding. Credit bounds the consumer's queue, so a slow consumer still slows its producer.
 */
export class LocalChannel extends CreditedWriter implements ChannelReader {
  protected override readonly overdraftAtBarrier = true;

  constructor(
    channelId: number,
    private readonly gate: InputGate,
    private readonly inputChannel: number,
    credit: number,
  ) {
    super(channelId, credit);
  }

  protected transmit(element: StreamElement): void {
    this.gate.deliver(this.inputChannel, element);
  }

  release(): void {
    this.addCredit(1);
  }
}
