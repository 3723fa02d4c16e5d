import { SeededRandom } from "../util/random.js";
import type { PollResult, Source, SourceOutput, SourceReader, SourceReaderContext } from "./source.js";

export interface GeneratorOptions<T> {
  /** Makes record number `index` (0-based over the whole source); `random` is seeded per reader. */
  readonly make: (index: number, random: SeededRandom) => T;
  /** Total records over all readers; unset for an unbounded source. */
  readonly count?: number;
  /** Seed of the readers' random generators (reader i uses seed + i). Default 1. */
  readonly seed?: number;
  /** Records per second over all readers; unset for as fast as possible. */
  readonly ratePerSecond?: number;
  /** Event time of a record, when records carry one. */
  readonly timestamp?: (value: T, index: number) => number;
}

/**
 * A deterministic generator: reader i of p makes records i, i+p, i+2p, …, so the union of all
 * readers is records 0..count-1 exactly once, whatever the parallelism. Records made from the
 * index alone are therefore the same at every parallelism; `random` is seeded per reader, so
 * records drawn from it depend on which reader made them (use the index for data that must not
 * change when the job is rescaled).
 */
export function generatorSource<T>(options: GeneratorOptions<T>): Source<T> {
  const { make, count = Number.POSITIVE_INFINITY, seed = 1, ratePerSecond, timestamp } = options;
  if (count < 0 || Number.isNaN(count)) throw new RangeError(`generator count must be ≥ 0, got ${count}`);
  if (ratePerSecond !== undefined && !(ratePerSecond > 0)) {
    throw new RangeError(`generator ratePerSecond must be > 0, got ${ratePerSecond}`);
  }
  return {
    createReader(context: SourceReaderContext): SourceReader<T> {
      const random = new SeededRandom(seed + context.shardIndex);
      const step = context.parallelism;
      let index = context.shardIndex;
      let emitted = 0;
      const perReaderRate = ratePerSecond === undefined ? undefined : ratePerSecond / step;
      const startedAt = context.now();
      return {
        poll(output: SourceOutput<T>, max: number): PollResult {
          let budget = max;
          if (perReaderRate !== undefined) {
            const due = Math.floor(((context.now() - startedAt) / 1000) * perReaderRate) + 1 - emitted;
            if (due <= 0) return context.sleep(Math.max(1, Math.ceil(1000 / perReaderRate)));
            budget = Math.min(budget, due);
          }
          for (let n = 0; n < budget && index < count; n++, index += step, emitted++) {
            const value = make(index, random);
            if (timestamp === undefined) output.collect(value);
            else output.collect(value, timestamp(value, index));
          }
          return index < count ? "more" : "end";
        },
      };
    },
  };
}
