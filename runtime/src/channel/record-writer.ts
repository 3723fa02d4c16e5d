import { ACTIVE, type Barrier, IDLE, type StreamElement } from "../element/stream-element.js";
import type { ChannelSelector } from "../partition/partitioners.js";
import type { ChannelWriter } from "./channel.js";

/**
 * The output of a shard into one edge: partitions records over the edge's channels and gathers
 * them into batches, sent when full or when the shard flushes (idle, or its buffer timeout).
 * Watermarks, barriers and end-of-input go to every channel, after the records before them.
 */
export class RecordWriter {
  private values: unknown[][];
  private timestamps: Array<number[] | undefined>;
  /** Records per batch, per channel: the job's batch size unless the channel asks for another. */
  private readonly limits: Int32Array;

  constructor(
    readonly channels: readonly ChannelWriter[],
    /** Undefined for broadcast: every record goes to every channel. */
    private readonly selector: ChannelSelector | undefined,
    batchSize: number,
  ) {
    this.values = channels.map(() => []);
    this.timestamps = channels.map(() => undefined);
    this.limits = Int32Array.from(channels, (channel) => channel.recordsPerBatch ?? batchSize);
  }

  push(value: unknown, timestamp: number): void {
    if (this.selector === undefined) {
      for (let c = 0; c < this.channels.length; c++) this.append(c, value, timestamp);
    } else {
      this.append(this.selector.select(value), value, timestamp);
    }
  }

  private append(c: number, value: unknown, timestamp: number): void {
    const values = this.values[c] as unknown[];
    let timestamps = this.timestamps[c];
    if (timestamps === undefined && !Number.isNaN(timestamp)) {
      // First timestamped record of the batch: earlier ones had none.
      timestamps = new Array<number>(values.length).fill(Number.NaN);
      this.timestamps[c] = timestamps;
    }
    values.push(value);
    if (timestamps !== undefined) timestamps.push(timestamp);
    if (values.length >= (this.limits[c] as number)) this.flushChannel(c);
  }

  private flushChannel(c: number): void {
    const values = this.values[c] as unknown[];
    if (values.length === 0) return;
    const channel = this.channels[c] as ChannelWriter;
    channel.send({ kind: "records", values, timestamps: this.timestamps[c] });
    this.values[c] = [];
    this.timestamps[c] = undefined;
  }

  /** Sends every partial batch. */
  flush(): void {
    for (let c = 0; c < this.channels.length; c++) this.flushChannel(c);
  }

  /** Sends a non-record element to every channel, behind the records buffered before it. */
  broadcastElement(element: StreamElement): void {
    this.flush();
    for (const channel of this.channels) channel.send(element);
  }

  /**
   * Sends an unaligned checkpoint's barrier to every channel: the partial batches go first (they
   * were produced before the barrier), and the barrier announces itself ahead of whatever waits
   * for credit (`ChannelWriter.sendPriority`).
   */
  broadcastPriority(barrier: Barrier): void {
    this.flush();
    for (const channel of this.channels) {
      if (channel.sendPriority === undefined) channel.send(barrier);
      else channel.sendPriority(barrier);
    }
  }

  watermark(timestamp: number): void {
    this.broadcastElement({ kind: "watermark", timestamp });
  }

  status(idle: boolean): void {
    this.broadcastElement(idle ? IDLE : ACTIVE);
  }

  /** True when every channel can take another batch. */
  isWritable(): boolean {
    for (const channel of this.channels) if (!channel.isWritable()) return false;
    return true;
  }

  /** The first channel that cannot take another batch, if any. */
  blockedChannel(): ChannelWriter | undefined {
    for (const channel of this.channels) if (!channel.isWritable()) return channel;
    return undefined;
  }

  close(): void {
    for (const channel of this.channels) channel.close();
  }
}
