import type {
  Key,
  OnTimerContext,
  OutputTag,
  ProcessContext,
  StateDeclarations,
  StateHandles,
  TimeDomain,
  TimerService,
} from "@keyflow/functions-sdk";
import type { Clock } from "../time/clock.js";
import type { Output } from "./operator.js";

/**
 * The `ctx` given to process functions. One object per operator, updated before each call
 * (timestamp, key), so there is no allocation per record.
 */
export class OperatorProcessContext implements ProcessContext {
  /** @internal Timestamp of the current record, NaN when none. */
  ts = Number.NaN;
  /** @internal The operator's current watermark. */
  wm = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly out: Output,
    private readonly clock: Clock,
  ) {}

  get timestamp(): number | undefined {
    return Number.isNaN(this.ts) ? undefined : this.ts;
  }
  output<X>(tag: OutputTag<X>, value: X): void {
    this.out.collectSide(tag.id, value, this.ts);
  }
  /** Stamps side outputs (and `timestamp`) until the operator starts its next record or timer (the SDK's interval join). */
  setAbsoluteTimestamp(timestamp: number): void {
    this.ts = timestamp;
  }
  currentProcessingTime(): number {
    return this.clock.now();
  }
  currentWatermark(): number {
    return this.wm;
  }
}

/**
 * A process context with the current key, its state handles and its timers. The same object is
 * the `OnTimerContext` of `onTimer` (with `timeDomain` set), so timers allocate nothing either.
 */
export class KeyedProcessContext<S extends StateDeclarations>
  extends OperatorProcessContext
  implements OnTimerContext<Key, S>
{
  /** @internal */
  currentKey: Key = "";
  /** @internal Set while `onTimer` runs. */
  timeDomain: TimeDomain = "eventTime";

  constructor(
    out: Output,
    clock: Clock,
    readonly state: StateHandles<S>,
    readonly timerService: TimerService,
  ) {
    super(out, clock);
  }

  get key(): Key {
    return this.currentKey;
  }
}
