import type { PollResult, Source, SourceOutput } from "@keyflow/functions-sdk";
import type { SimulatedClock } from "@keyflow/runtime";

/** One record of a schedule: which source emits it, and the processing time at which it arrives. */
export interface ScheduledRecord {
  readonly stream: string;
  /** Processing time of arrival, in ms of the simulated clock; never decreasing along the schedule. */
  readonly at: number;
  readonly value: unknown;
  /** Event time of the record, if it has one. */
  readonly timestamp?: number;
}

/** Lets the event loop run: shards on the calling thread take their next slice. */
const yieldTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Feeds a job records at given moments of a SimulatedClock, one at a time, without sleeping:
 * before each record it waits until the operator under test processed the one before (the test's
 * function calls `processed()`), then moves the clock to the record's time — processing-time
 * timers due by then are queued ahead of the record in the operator's mailbox, so they fire
 * before it, as they would on a real clock — and emits the record. After the last record the
 * clock moves to `endAt`, so timers due by then fire before end of input.
 *
 * Several sources (by `stream` name) may share one schedule; they then emit in schedule order.
 */
export class ClockedSchedule {
  private next = 0;
  private emitted = 0;
  private handled = 0;
  private ended = false;

  constructor(
    private readonly clock: SimulatedClock,
    private readonly records: readonly ScheduledRecord[],
    private readonly endAt: number,
  ) {
    for (let i = 1; i < records.length; i++) {
      if ((records[i] as ScheduledRecord).at < (records[i - 1] as ScheduledRecord).at) {
        throw new RangeError(`scheduled record ${i} arrives before the one before it`);
      }
    }
  }

  /** The operator under test finished with one record. */
  processed(): void {
    this.handled++;
  }

  /** A source emitting this schedule's records of `stream` from its first reader (other readers have none). */
  source<T>(stream: string): Source<T> {
    return {
      createReader: (context) =>
        context.shardIndex === 0
          ? { poll: (output: SourceOutput<T>) => this.poll(stream, output as SourceOutput<unknown>) }
          : { poll: () => "end" },
    };
  }

  private poll(stream: string, output: SourceOutput<unknown>): PollResult {
    if (this.handled < this.emitted) return yieldTurn();
    const record = this.records[this.next];
    if (record === undefined) {
      if (!this.ended) {
        this.ended = true;
        this.advanceTo(this.endAt);
        // One more turn, so the timers just queued run before this source's end of input.
        return yieldTurn();
      }
      return "end";
    }
    if (record.stream !== stream) return yieldTurn();
    this.advanceTo(record.at);
    this.next++;
    this.emitted++;
    output.collect(record.value, record.timestamp);
    return yieldTurn();
  }

  private advanceTo(time: number): void {
    const now = this.clock.now();
    if (time > now) this.clock.advance(time - now);
  }
}
