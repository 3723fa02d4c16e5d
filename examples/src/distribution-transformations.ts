import {
  type Collector,
  type CollectSink,
  collectSink,
  defineJob,
  type JobDefinition,
  type Partitioner,
  type ProcessContext,
  type ProcessFunction,
  type RuntimeContext,
  SeededRandom,
} from "@keyflow/functions-sdk";

/**
 * The book's distribution transformations (chapter 5): how records of one operator are spread
 * over the shards of the next. A stream of numbers from 2 source shards goes to a 4-shard
 * operator in every way the SDK offers; that operator tags each number with the shard that got
 * it, and the tags are collected per strategy.
 *
 * - shuffle: a random shard per record;
 * - rebalance: round-robin over all shards;
 * - rescale: round-robin over a group of shards per producer (source shard 0 feeds shards 0-1,
 *   source shard 1 feeds shards 2-3);
 * - broadcast: every record to every shard;
 * - global: everything to shard 0;
 * - custom: the book's partitioner, negative numbers to shard 0 and the others to a random shard.
 *
 * Run it: `npm run keyflow -- run examples/dist/src/distribution-transformations.js`.
 */

export const STRATEGIES = ["shuffle", "rebalance", "rescale", "broadcast", "global", "custom"] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** A number and the shard of the tagging operator that received it. */
export interface Tagged {
  readonly strategy: Strategy;
  readonly shard: number;
  readonly value: number;
}

export const SOURCE_PARALLELISM = 2;
export const TARGET_PARALLELISM = 4;
/** How many numbers the source emits by default. */
export const NUMBERS = 12;

/** Number i (0-based) of the source: i + 1, negative for every third. Source shard s emits i = s, s + 2, …. */
export function numberAt(index: number): number {
  return (index % 3 === 0 ? -1 : 1) * (index + 1);
}

/** The tags of each strategy, by strategy. */
export const tagged: { readonly [S in Strategy]: CollectSink<Tagged> } = {
  shuffle: collectSink<Tagged>("shuffle"),
  rebalance: collectSink<Tagged>("rebalance"),
  rescale: collectSink<Tagged>("rescale"),
  broadcast: collectSink<Tagged>("broadcast"),
  global: collectSink<Tagged>("global"),
  custom: collectSink<Tagged>("custom"),
};

/** Tags each number with the index of the shard it reached, learnt from the runtime context in `open`. */
export class TagWithShard implements ProcessFunction<number, Tagged> {
  private shard = -1;

  constructor(private readonly strategy: Strategy) {}

  open(context: RuntimeContext): void {
    this.shard = context.shardIndex;
  }

  processElement(value: number, _ctx: ProcessContext, out: Collector<Tagged>): void {
    out.collect({ strategy: this.strategy, shard: this.shard, value });
  }
}

/** The book's custom partitioner: negative numbers to shard 0, the others to a random shard. */
export function negativesFirst(random: SeededRandom): Partitioner<number> {
  return (key, shards) => (key < 0 ? 0 : random.nextInt(shards));
}

export interface DistributionTransformationsOptions {
  /** Print each number with the shard that got it. Default true. */
  readonly print?: boolean;
  /** How many numbers to distribute. Default 12. */
  readonly count?: number;
}

export function distributionTransformations(options: DistributionTransformationsOptions = {}): JobDefinition {
  return defineJob({ name: "distribution-transformations" }, (env) => {
    const numbers = env
      .generate<number>({ count: options.count ?? NUMBERS, make: numberAt }, "Numbers")
      .setParallelism(SOURCE_PARALLELISM);
    const random = new SeededRandom(3);

    const distributed = {
      shuffle: numbers.shuffle(),
      rebalance: numbers.rebalance(),
      rescale: numbers.rescale(),
      broadcast: numbers.broadcast(),
      global: numbers.global(),
      custom: numbers.partitionCustom(negativesFirst(random), (n) => n),
    };
    for (const strategy of STRATEGIES) {
      const tags = distributed[strategy]
        .process(new TagWithShard(strategy))
        .name(`Tag(${strategy})`)
        .setParallelism(TARGET_PARALLELISM);
      tags.collect(tagged[strategy]);
      if (options.print ?? true) tags.map((t) => `${t.strategy}: ${t.value} -> shard ${t.shard}`).print();
    }
  });
}

export default distributionTransformations();
