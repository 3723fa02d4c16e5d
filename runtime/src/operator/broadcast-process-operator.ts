import type {
  BroadcastProcessFunction,
  BroadcastStateDeclarations,
  Key,
  KeyedBroadcastProcessFunction,
  StateDeclarations,
  StateHandles,
  TimerService,
} from "@keyflow/functions-sdk";
import { BroadcastStateStore } from "../state/broadcast-state.js";
import { KeyedStateBackend } from "../state/keyed-state-backend.js";
import { PLAIN_NAMESPACE, TimerServiceState } from "../state/timer-state.js";
import type { Clock } from "../time/clock.js";
import { AbstractOperator } from "./abstract-operator.js";
import { keySelectorOf } from "./keyed-process-operator.js";
import type { OperatorContext, Output } from "./operator.js";
import { KeyedProcessContext, OperatorProcessContext } from "./process-contexts.js";
import { ProcessTimers } from "./process-timers.js";
import { TimestampedCollector } from "./timestamped-collector.js";

/** Record side: keyed (when the stream is keyed) with read-only broadcast state. */
class RecordSideContext extends KeyedProcessContext<StateDeclarations> {
  constructor(
    out: Output,
    clock: Clock,
    state: StateHandles<StateDeclarations>,
    timers: TimerService,
    readonly broadcastState: Record<string, unknown>,
  ) {
    super(out, clock, state, timers);
  }
}

/** Broadcast side: writable broadcast state, no key. */
class BroadcastSideContext extends OperatorProcessContext {
  constructor(
    out: Output,
    clock: Clock,
    readonly broadcastState: Record<string, unknown>,
  ) {
    super(out, clock);
  }
}

const noTimers = (): never => {
  throw new TypeError("timers need a keyed stream: keyBy(...) before connect(...)");
};
/** A non-keyed broadcast connection has no timers (Flink neither): every call says why. */
const NO_TIMERS: TimerService = {
  currentProcessingTime: noTimers,
  currentWatermark: noTimers,
  registerEventTimeTimer: noTimers,
  registerProcessingTimeTimer: noTimers,
  deleteEventTimeTimer: noTimers,
  deleteProcessingTimeTimer: noTimers,
};

type AnyBroadcastFunction =
  | BroadcastProcessFunction<unknown, unknown, unknown, BroadcastStateDeclarations>
  | KeyedBroadcastProcessFunction<Key, unknown, unknown, unknown, BroadcastStateDeclarations, StateDeclarations>;

/**
 * The broadcast-state pattern: input 0 is the (possibly keyed) record stream, input 1 the
 * broadcast stream. Every shard receives every broadcast element, in the same order from each
 * broadcast producer, so broadcast state stays identical across shards. Checkpoints the broadcast
 * state (as union list state) and, when keyed, the keyed state and timers.
 */
export class BroadcastProcessOperator extends AbstractOperator {
  readonly backend: KeyedStateBackend | undefined;
  readonly broadcast: BroadcastStateStore;
  private readonly recordCtx: RecordSideContext;
  private readonly broadcastCtx: BroadcastSideContext;
  private readonly collector: TimestampedCollector;
  private readonly selector: ((value: unknown) => unknown) | undefined;
  readonly timers: ProcessTimers | undefined;

  constructor(
    context: OperatorContext,
    private readonly fn: AnyBroadcastFunction,
    keyed: boolean,
    state: StateDeclarations,
    declarations: BroadcastStateDeclarations,
  ) {
    super(context);
    this.broadcast = new BroadcastStateStore(declarations, this.shardName);
    this.backend = keyed ? new KeyedStateBackend(context.runtime.maxParallelism, context.clock) : undefined;
    const handles = (this.backend?.handles(state) ?? {}) as StateHandles<StateDeclarations>;
    this.timers =
      this.backend === undefined
        ? undefined
        : new ProcessTimers(context, this.backend, fn as never, (error, what) => this.failureIn(error, what));
    this.recordCtx = new RecordSideContext(
      this.output,
      context.clock,
      handles,
      this.timers ?? NO_TIMERS,
      this.broadcast.readOnlyHandles(),
    );
    this.broadcastCtx = new BroadcastSideContext(this.output, context.clock, this.broadcast.handles());
    this.collector = new TimestampedCollector(this.output);
    this.timers?.bind(this.recordCtx, this.collector);
    this.selector = keyed ? keySelectorOf(context, 0) : undefined;
    const maxParallelism = context.runtime.maxParallelism;
    this.checkpointState(
      this.backend === undefined || this.timers === undefined
        ? []
        : [this.backend, new TimerServiceState(this.timers.service, PLAIN_NAMESPACE, maxParallelism)],
      this.broadcast,
    );
  }
  protected functions(): readonly unknown[] {
    return [this.fn];
  }
  processRecord(value: unknown, timestamp: number, input: number): void {
    this.collector.ts = timestamp;
    try {
      if (input === 1) {
        this.broadcastCtx.ts = timestamp;
        this.fn.processBroadcastElement(value, this.broadcastCtx as never, this.collector);
        return;
      }
      this.recordCtx.ts = timestamp;
      if (this.selector !== undefined && this.backend !== undefined) {
        const key = this.selector(value) as Key;
        this.backend.currentKey = key;
        this.recordCtx.currentKey = key;
      }
      this.fn.processElement(value, this.recordCtx as never, this.collector);
    } catch (error) {
      throw this.failure(error, value);
    }
  }
  override processWatermark(timestamp: number): void {
    this.recordCtx.wm = timestamp;
    this.broadcastCtx.wm = timestamp;
    this.timers?.service.advanceWatermark(timestamp);
    super.processWatermark(timestamp);
  }
  override async close(): Promise<void> {
    this.timers?.service.dispose();
    await super.close();
  }
}
