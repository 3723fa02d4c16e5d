import type {
  Key,
  KeyedContext,
  OutputTag,
  ProcessContext,
  StateDeclarations,
  StateHandles,
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
  currentProcessingTime(): number {
    return this.clock.now();
  }
  currentWatermark(): number {
    return this.wm;
  }
}

/** A process context with the current key and its state handles. */
export class KeyedProcessContext<S extends StateDeclarations>
  extends OperatorProcessContext
  implements KeyedContext<Key, S>
{
  /** @internal */
  currentKey: Key = "";

  constructor(
    out: Output,
    clock: Clock,
    readonly state: StateHandles<S>,
  ) {
    super(out, clock);
  }

  get key(): Key {
    return this.currentKey;
  }
}
