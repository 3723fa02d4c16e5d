import type {
  CoFlatMapFunction,
  CoMapFunction,
  CoProcessFunction,
  Key,
  KeyedCoProcessFunction,
  StateDeclarations,
} from "@keyflow/functions-sdk";
import { KeyedStateBackend } from "../state/keyed-state-backend.js";
import { PLAIN_NAMESPACE, TimerServiceState } from "../state/timer-state.js";
import { AbstractOperator } from "./abstract-operator.js";
import { keySelectorOf } from "./keyed-process-operator.js";
import type { OperatorContext } from "./operator.js";
import { KeyedProcessContext, OperatorProcessContext } from "./process-contexts.js";
import { ProcessTimers } from "./process-timers.js";
import { TimestampedCollector } from "./timestamped-collector.js";

/** Two inputs mapped by `map1` and `map2` into one output. */
export class CoMapOperator extends AbstractOperator {
  constructor(
    context: OperatorContext,
    private readonly fn: CoMapFunction<unknown, unknown, unknown>,
  ) {
    super(context);
  }
  protected functions(): readonly unknown[] {
    return [this.fn];
  }
  processRecord(value: unknown, timestamp: number, input: number): void {
    let result: unknown;
    try {
      result = input === 0 ? this.fn.map1(value) : this.fn.map2(value);
    } catch (error) {
      throw this.failure(error, value);
    }
    this.output.collect(result, timestamp);
  }
}

export class CoFlatMapOperator extends AbstractOperator {
  private readonly collector: TimestampedCollector;
  constructor(
    context: OperatorContext,
    private readonly fn: CoFlatMapFunction<unknown, unknown, unknown>,
  ) {
    super(context);
    this.collector = new TimestampedCollector(this.output);
  }
  protected functions(): readonly unknown[] {
    return [this.fn];
  }
  processRecord(value: unknown, timestamp: number, input: number): void {
    this.collector.ts = timestamp;
    try {
      if (input === 0) this.fn.flatMap1(value, this.collector);
      else this.fn.flatMap2(value, this.collector);
    } catch (error) {
      throw this.failure(error, value);
    }
  }
}

export class CoProcessOperator extends AbstractOperator {
  private readonly ctx: OperatorProcessContext;
  private readonly collector: TimestampedCollector;
  constructor(
    context: OperatorContext,
    private readonly fn: CoProcessFunction<unknown, unknown, unknown>,
  ) {
    super(context);
    this.ctx = new OperatorProcessContext(this.output, context.clock);
    this.collector = new TimestampedCollector(this.output);
  }
  protected functions(): readonly unknown[] {
    return [this.fn];
  }
  processRecord(value: unknown, timestamp: number, input: number): void {
    this.ctx.ts = timestamp;
    this.collector.ts = timestamp;
    try {
      if (input === 0) this.fn.processElement1(value, this.ctx, this.collector);
      else this.fn.processElement2(value, this.ctx, this.collector);
    } catch (error) {
      throw this.failure(error, value);
    }
  }
  override processWatermark(timestamp: number): void {
    this.ctx.wm = timestamp;
    super.processWatermark(timestamp);
  }
}

/** Two streams keyed alike: both inputs read and write the current key's state. Checkpoints that state and the timers. */
export class KeyedCoProcessOperator extends AbstractOperator {
  readonly backend: KeyedStateBackend;
  private readonly ctx: KeyedProcessContext<StateDeclarations>;
  private readonly collector: TimestampedCollector;
  private readonly selectors: Array<(value: unknown) => unknown>;
  readonly timers: ProcessTimers;

  constructor(
    context: OperatorContext,
    private readonly fn: KeyedCoProcessFunction<Key, unknown, unknown, unknown, StateDeclarations>,
    state: StateDeclarations,
  ) {
    super(context);
    this.backend = new KeyedStateBackend(context.runtime.maxParallelism, context.clock);
    this.timers = new ProcessTimers(context, this.backend, fn, (error, what) => this.failureIn(error, what));
    this.ctx = new KeyedProcessContext(this.output, context.clock, this.backend.handles(state), this.timers);
    this.collector = new TimestampedCollector(this.output);
    this.timers.bind(this.ctx, this.collector);
    this.selectors = [keySelectorOf(context, 0), keySelectorOf(context, 1)];
    this.checkpointState([
      this.backend,
      new TimerServiceState(this.timers.service, PLAIN_NAMESPACE, context.runtime.maxParallelism),
    ]);
  }
  protected functions(): readonly unknown[] {
    return [this.fn];
  }
  processRecord(value: unknown, timestamp: number, input: number): void {
    this.ctx.ts = timestamp;
    this.collector.ts = timestamp;
    try {
      const key = (this.selectors[input] as (value: unknown) => unknown)(value) as Key;
      this.backend.currentKey = key;
      this.ctx.currentKey = key;
      if (input === 0) this.fn.processElement1(value, this.ctx, this.collector);
      else this.fn.processElement2(value, this.ctx, this.collector);
    } catch (error) {
      throw this.failure(error, value);
    }
  }
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
