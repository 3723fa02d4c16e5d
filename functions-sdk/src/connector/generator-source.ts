import { SeededRandom } from "../util/random.js";
import type { PollResult, Source, SourceOutput, SourceReader, SourceReaderContext } from "./source.js";
import { SplitReader } from "./split-reader.js";

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
 * change when the job is rescaled). Checkpointable: a split's position is its next index and
 * its random generator's state, so a restored run makes exactly the records that were not
 * emitted yet, at any parallelism.
 */
export function generatorSource<T>(options: GeneratorOptions<T>): Source<T> {
  const { make, count = Number.POSITIVE_INFINITY, seed = 1, ratePerSecond, timestamp } = options;
  if (count < 0 || Number.isNaN(count)) throw new RangeError(`generator count must be ≥ 0, got ${count}`);
  if (ratePerSecond !== undefined && !(ratePerSecond > 0)) {
    throw new RangeError(`generator ratePerSecond must be > 0, got ${ratePerSecond}`);
  }
  return {
    createReader(context: SourceReaderContext): SourceReader<T> {
      const restored = context.restoredSplits as GeneratorPosition[] | undefined;
      const splits: GeneratorSplit[] = restored?.map((p) => ({
        first: p.first,
        step: p.step,
        next: p.next,
        random: SeededRandom.restore(p.random),
      })) ?? [
        {
          first: context.shardIndex,
          step: context.parallelism,
          next: context.shardIndex,
          random: new SeededRandom(seed + context.shardIndex),
        },
      ];
      const perReaderRate = ratePerSecond === undefined ? undefined : ratePerSecond / context.parallelism;
      const startedAt = context.now();
      let emitted = 0;
      return new SplitReader<T, GeneratorSplit>(
        splits,
        (split, output: SourceOutput<T>, max: number): PollResult => {
          let budget = max;
          if (perReaderRate !== undefined) {
            const due = Math.floor(((context.now() - startedAt) / 1000) * perReaderRate) + 1 - emitted;
            if (due <= 0) return context.sleep(Math.max(1, Math.ceil(1000 / perReaderRate)));
            budget = Math.min(budget, due);
          }
          const step = split.step;
          const random = split.random;
          let index = split.next;
          for (let n = 0; n < budget && index < count; n++, index += step, emitted++) {
            const value = make(index, random);
            if (timestamp === undefined) output.collect(value);
            else output.collect(value, timestamp(value, index));
          }
          split.next = index;
          return index < count ? "more" : "end";
        },
        (split): GeneratorPosition => ({
          first: split.first,
          step: split.step,
          next: split.next,
          random: split.random.snapshot(),
        }),
      );
    },
  };
}

/** One split of a generator: records first, first + step, …; `next` is the next to make. */
interface GeneratorSplit {
  readonly first: number;
  readonly step: number;
  next: number;
  readonly random: SeededRandom;
}

/** A generator split's position in a checkpoint. */
interface GeneratorPosition {
  readonly first: number;
  readonly step: number;
  readonly next: number;
  readonly random: number;
}
