import type { Key, KeyedProcessFunction, StateDeclarations } from "@keyflow/functions-sdk";
import { KeyedStateBackend } from "../state/keyed-state-backend.js";
import { PLAIN_NAMESPACE, TimerServiceState } from "../state/timer-state.js";
import { AbstractOperator } from "./abstract-operator.js";
import type { OperatorContext } from "./operator.js";
import { KeyedProcessContext } from "./process-contexts.js";
import { ProcessTimers } from "./process-timers.js";
import { TimestampedCollector } from "./timestamped-collector.js";

/**
 * `process` on a keyed stream: sets the current key, then calls the user's function with that
 * key's state. Checkpoints its keyed state and its timers.
 */
export class KeyedProcessOperator extends AbstractOperator {
  readonly backend: KeyedStateBackend;
  private readonly ctx: KeyedProcessContext<StateDeclarations>;
  private readonly collector: TimestampedCollector;
  private readonly selector: (value: unknown) => unknown;
  readonly timers: ProcessTimers;

  constructor(
    context: OperatorContext,
    private readonly fn: KeyedProcessFunction<Key, unknown, unknown, StateDeclarations>,
    state: StateDeclarations,
  ) {
    super(context);
    this.backend = new KeyedStateBackend(context.runtime.maxParallelism, context.clock);
    this.timers = new ProcessTimers(context, this.backend, fn, (error, what) => this.failureIn(error, what));
    this.ctx = new KeyedProcessContext(this.output, context.clock, this.backend.handles(state), this.timers);
    this.collector = new TimestampedCollector(this.output);
    this.timers.bind(this.ctx, this.collector);
    this.selector = keySelectorOf(context, 0);
    this.checkpointState([
      this.backend,
      new TimerServiceState(this.timers.service, PLAIN_NAMESPACE, context.runtime.maxParallelism),
    ]);
  }
  protected functions(): readonly unknown[] {
    return [this.fn];
  }
  processRecord(value: unknown, timestamp: number): void {
    this.ctx.ts = timestamp;
    this.collector.ts = timestamp;
    try {
      const key = this.selector(value) as Key;
      this.backend.currentKey = key;
      this.ctx.currentKey = key;
      this.fn.processElement(value, this.ctx, this.collector);
    } catch (error) {
      throw this.failure(error, value);
    }
  }
  /** Fires the event-time timers the watermark passed, then forwards it (timers' output precedes it). */
  override processWatermark(timestamp: number): void {
    this.ctx.wm = timestamp;
    this.timers.service.advanceWatermark(timestamp);
    super.processWatermark(timestamp);
  }
  override async close(): Promise<void> {
    this.timers.service.dispose();
    await super.close();
  }
}

/** The key selector of an input of a keyed operator; the plan guarantees keyed inputs are hash-partitioned. */
export function keySelectorOf(context: OperatorContext, input: number): (value: unknown) => unknown {
  const selector = context.keySelectors[input];
  if (selector === undefined)
    throw new Error(`operator "${context.node.name}" is keyed but input ${input} has no key selector`);
  return selector;
}
