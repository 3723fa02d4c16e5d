import { collectionSource } from "../connector/collection-source.js";
import { type GeneratorOptions, generatorSource } from "../connector/generator-source.js";
import type { Source } from "../connector/source.js";
import { InvalidJobError } from "../errors.js";
import type { WatermarkStrategy } from "../time/watermark-strategy.js";
import { OperatorStream } from "./data-stream.js";
import type { GraphBuilder } from "./graph-builder.js";

/**
 * Where a job starts: sources, and the job's defaults. Given to the build function of
 * `defineJob`; one environment builds one job graph.
 */
export class StreamEnvironment {
  /** @internal */
  constructor(private readonly builder: GraphBuilder) {}

  /** Default parallelism of operators that set none. The runtime's `--parallelism` overrides it. */
  setParallelism(parallelism: number): this {
    this.builder.parallelism = parallelism;
    return this;
  }

  /** Number of key groups of keyed operators that set none (default 128). Fixed for the job's life: it bounds rescaling. */
  setMaxParallelism(maxParallelism: number): this {
    this.builder.maxParallelism = maxParallelism;
    return this;
  }

  /**
   * How often periodic watermark generators emit, in ms of processing time (default 200, as in
   * Flink). 0 turns periodic emission off (punctuated generators still emit).
   */
  setAutoWatermarkInterval(intervalMs: number): this {
    if (!(Number.isFinite(intervalMs) && intervalMs >= 0)) {
      throw new InvalidJobError("environment", `auto-watermark interval must be zero or more ms, got ${intervalMs}`);
    }
    this.builder.autoWatermarkIntervalMs = intervalMs;
    return this;
  }

  /**
   * Reads records from a source. With a watermark strategy, each source shard (one split)
   * assigns timestamps and generates its own watermarks as it reads, so
   * event time follows each split's own order (records with invalid timestamps go to the
   * strategy's side output: `getSideOutput(tag)` on this stream).
   */
  fromSource<T>(source: Source<T>, name = "Source", watermarks?: WatermarkStrategy<T>): OperatorStream<T> {
    const node = this.builder.add(
      {
        kind: "source",
        source: source as Source<unknown>,
        watermarks: watermarks as WatermarkStrategy<unknown> | undefined,
      },
      [],
      name,
    );
    return new OperatorStream<T>(this.builder, node);
  }

  /** Emits the items of a collection in order, from one shard. */
  fromCollection<T>(items: Iterable<T>, name = "Collection"): OperatorStream<T> {
    return this.fromSource(collectionSource(items), name).setParallelism(1);
  }

  /** A deterministic, seeded generator: records 0..count-1 spread over the source's shards. */
  generate<T>(options: GeneratorOptions<T>, name = "Generator"): OperatorStream<T> {
    return this.fromSource(generatorSource(options), name);
  }
}
