import type { PollResult, SourceOutput, SourceReader } from "./source.js";

/**
 * A reader over several splits, for sources whose work divides into independent splits: it
 * polls them in turn, drops those that end, and snapshots each one's position. Restored splits
 * may be several per reader (after scaling down) or none (after scaling up: the reader ends).
 */
export class SplitReader<T, S> implements SourceReader<T> {
  private next = 0;

  constructor(
    private readonly splits: S[],
    /** Emits up to `max` records of `split` (advancing its position in place); "end" when it is exhausted. */
    private readonly pollSplit: (split: S, output: SourceOutput<T>, max: number) => PollResult,
    /** A copy of a split's position, as plain data. */
    private readonly positionOf: (split: S) => unknown,
  ) {}

  poll(output: SourceOutput<T>, max: number): PollResult {
    while (this.splits.length > 0) {
      if (this.next >= this.splits.length) this.next = 0;
      const result = this.pollSplit(this.splits[this.next] as S, output, max);
      if (result === "end") {
        this.splits.splice(this.next, 1);
        continue;
      }
      this.next++;
      return this.splits.length > 0 ? result : "end";
    }
    return "end";
  }

  snapshotSplits(): unknown[] {
    return this.splits.map(this.positionOf);
  }
}
