import type { Key, Partitioner } from "@keyflow/functions-sdk";
import { PartitionOutOfRangeError } from "./errors.js";
import { keyGroupOf, shardOfKeyGroup } from "./key-groups.js";

/**
 * Chooses the channel of a record among a writer's `n` channels (channel i leads to the i-th
 * target the edge connects this shard to). Broadcast is not a selector: the writer sends every
 * record to every channel.
 */
export interface ChannelSelector {
  select(value: unknown): number;
}

/** Always the single channel (forward) or channel 0 (global). */
export class FixedSelector implements ChannelSelector {
  constructor(private readonly channel: number) {}
  select(): number {
    return this.channel;
  }
}

/** Round-robin, starting at a shard-dependent offset so producers do not all hit target 0 first. */
export class RoundRobinSelector implements ChannelSelector {
  private next: number;
  constructor(
    private readonly n: number,
    start: number,
  ) {
    this.next = start % n;
  }
  select(): number {
    const channel = this.next;
    this.next = channel + 1 === this.n ? 0 : channel + 1;
    return channel;
  }
}

/** A pseudo-random channel per record, seeded per producer shard so runs are repeatable. */
export class ShuffleSelector implements ChannelSelector {
  private state: number;
  constructor(
    private readonly n: number,
    seed: number,
  ) {
    this.state = (seed * 0x9e3779b9 + 1) >>> 0;
  }
  select(): number {
    // xorshift32: fast and good enough to spread records.
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state % this.n;
  }
}

/** key -> key group -> shard, the one rule every keyed part of the runtime shares. */
export class KeyGroupSelector implements ChannelSelector {
  constructor(
    private readonly key: (value: unknown) => Key,
    private readonly maxParallelism: number,
    private readonly n: number,
  ) {}
  select(value: unknown): number {
    if (this.n === 1) return 0;
    return shardOfKeyGroup(keyGroupOf(this.key(value), this.maxParallelism), this.maxParallelism, this.n);
  }
}

/** A user's partitioner over the record's key; an out-of-range answer is an error, never a drop. */
export class CustomSelector implements ChannelSelector {
  constructor(
    private readonly key: (value: unknown) => Key,
    private readonly partition: Partitioner<Key>,
    private readonly n: number,
    private readonly targetName: string,
  ) {}
  select(value: unknown): number {
    const chosen = this.partition(this.key(value), this.n);
    if (!Number.isInteger(chosen) || chosen < 0 || chosen >= this.n) {
      throw new PartitionOutOfRangeError(this.targetName, chosen, this.n, value);
    }
    return chosen;
  }
}
