import type { Source, SourceReader, SourceReaderContext } from "./source.js";
import { SplitReader } from "./split-reader.js";

/** Split of a collection: items first, first + step, …; `next` is the next item to emit. */
interface CollectionSplit {
  first: number;
  step: number;
  next: number;
}

/**
 * Emits the items of a collection, in order, split over readers by index modulo parallelism.
 * The items are copied when the job is built, so later changes to the array do not leak in.
 * Checkpointable: each split's position is the index of its next item.
 */
export function collectionSource<T>(items: Iterable<T>): Source<T> {
  const copy = Array.from(items);
  return {
    createReader(context: SourceReaderContext): SourceReader<T> {
      const splits = (context.restoredSplits as CollectionSplit[] | undefined)?.map((s) => ({ ...s })) ?? [
        { first: context.shardIndex, step: context.parallelism, next: context.shardIndex },
      ];
      return new SplitReader<T, CollectionSplit>(
        splits,
        (split, output, max) => {
          for (let n = 0; n < max && split.next < copy.length; n++, split.next += split.step) {
            output.collect(copy[split.next] as T);
          }
          return split.next < copy.length ? "more" : "end";
        },
        (split) => ({ ...split }),
      );
    },
  };
}
