import { collectionSource } from "../connector/collection-source.js";
import { type GeneratorOptions, generatorSource } from "../connector/generator-source.js";
import type { Source } from "../connector/source.js";
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

  /** Reads records from a source. */
  fromSource<T>(source: Source<T>, name = "Source"): OperatorStream<T> {
    const node = this.builder.add({ kind: "source", source: source as Source<unknown> }, [], name);
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
