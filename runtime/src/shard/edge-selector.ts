import type { ChannelSelector } from "../partition/partitioners.js";
import {
  CustomSelector,
  FixedSelector,
  KeyGroupSelector,
  RoundRobinSelector,
  ShuffleSelector,
} from "../partition/partitioners.js";
import type { PlanEdge, PlanVertex } from "../plan/execution-plan.js";

export interface EdgeSelectorOptions {
  readonly edge: PlanEdge;
  readonly target: PlanVertex;
  /** The target operator's name, for errors of a custom partitioner. */
  readonly targetName: string;
  /** How many channels this shard has on the edge. */
  readonly channels: number;
  /** The producing shard's index: round-robin starts and shuffle seeds differ per producer. */
  readonly shardIndex: number;
}

/**
 * How a producing shard spreads records over its channels of one edge; undefined for broadcast,
 * where every record goes to every channel.
 */
export function edgeSelector(options: EdgeSelectorOptions): ChannelSelector | undefined {
  const { edge, target, targetName, channels, shardIndex } = options;
  const p = edge.partitioner;
  switch (p.kind) {
    case "forward":
    case "global":
      return new FixedSelector(0);
    case "broadcast":
      return undefined;
    case "rebalance":
    case "rescale":
      return new RoundRobinSelector(Math.max(1, channels), shardIndex);
    case "shuffle":
      return new ShuffleSelector(Math.max(1, channels), shardIndex + 1);
    case "hash":
      return new KeyGroupSelector(p.key, edge.maxParallelism, target.parallelism);
    case "custom":
      return new CustomSelector(p.key, p.partition, target.parallelism, targetName);
  }
}
