import type { PollResult, Source, SourceOutput, SourceReader, SourceReaderContext } from "./source.js";

/**
 * Emits the items of a collection, in order, split over readers by index modulo parallelism.
 * The items are copied when the job is built, so later changes to the array do not leak in.
 */
export function collectionSource<T>(items: Iterable<T>): Source<T> {
  const copy = Array.from(items);
  return {
    createReader(context: SourceReaderContext): SourceReader<T> {
      let index = context.shardIndex;
      const step = context.parallelism;
      return {
        poll(output: SourceOutput<T>, max: number): PollResult {
          for (let n = 0; n < max && index < copy.length; n++, index += step) output.collect(copy[index] as T);
          return index < copy.length ? "more" : "end";
        },
      };
    },
  };
}
