import type { ChannelReader, ChannelWriter, InputGate } from "../channel/channel.js";
import type { RemoteChannelFactory } from "../node/shard-host.js";
import type { PlanChannel } from "../plan/execution-plan.js";
import type { ShardLocation } from "../plan/placement.js";
import { NatsChannelReader, NatsChannelWriter } from "../transport/nats-channel.js";
import type { NatsLink } from "../transport/nats-link.js";

export interface NatsChannelFactoryOptions {
  readonly link: NatsLink;
  /** How often a writer without credit asks for its reader's grant, in ms. Default 100. */
  readonly askIntervalMs?: number;
}

/**
 * Makes the ends of channels between nodes: NatsChannelWriter and NatsChannelReader on the node's
 * one NATS link. Every node builds the same plan, so channel, edge and shard ids agree on both
 * ends without being exchanged.
 */
export class NatsChannelFactory implements RemoteChannelFactory {
  constructor(private readonly options: NatsChannelFactoryOptions) {}

  writer(channel: PlanChannel, _target: ShardLocation, _credit: number): ChannelWriter {
    return new NatsChannelWriter({
      link: this.options.link,
      channelId: channel.id,
      edge: channel.edge,
      targetShard: channel.targetShard,
      ...(this.options.askIntervalMs === undefined ? {} : { askIntervalMs: this.options.askIntervalMs }),
    });
  }

  reader(channel: PlanChannel, _source: ShardLocation, gate: InputGate, credit: number): ChannelReader {
    return new NatsChannelReader({
      link: this.options.link,
      channelId: channel.id,
      edge: channel.edge,
      targetShard: channel.targetShard,
      gate,
      inputChannel: channel.inputChannel,
      credit,
    });
  }
}
