import type { Key, KeyedProcessFunction, StateDeclarations } from "@keyflow/functions-sdk";
import { KeyedStateBackend } from "../state/keyed-state-backend.js";
import { AbstractOperator } from "./abstract-operator.js";
import type { OperatorContext } from "./operator.js";
import { KeyedProcessContext } from "./process-contexts.js";
import { TimestampedCollector } from "./timestamped-collector.js";

/** `process` on a keyed stream: sets the current key, then calls the user's function with that key's state. */
export class KeyedProcessOperator extends AbstractOperator {
  readonly backend: KeyedStateBackend;
  private readonly ctx: KeyedProcessContext<StateDeclarations>;
  private readonly collector: TimestampedCollector;
  private readonly selector: (value: unknown) => unknown;

  constructor(
    context: OperatorContext,
    private readonly fn: KeyedProcessFunction<Key, unknown, unknown, StateDeclarations>,
    state: StateDeclarations,
  ) {
    super(context);
    this.backend = new KeyedStateBackend(context.runtime.maxParallelism, context.clock);
    this.ctx = new KeyedProcessContext(this.output, context.clock, this.backend.handles(state));
    this.collector = new TimestampedCollector(this.output);
    this.selector = keySelectorOf(context, 0);
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
  override processWatermark(timestamp: number): void {
    this.ctx.wm = timestamp;
    super.processWatermark(timestamp);
  }
}

/** The key selector of an input of a keyed operator; the plan guarantees keyed inputs are hash-partitioned. */
export function keySelectorOf(context: OperatorContext, input: number): (value: unknown) => unknown {
  const selector = context.keySelectors[input];
  if (selector === undefined)
    throw new Error(`operator "${context.node.name}" is keyed but input ${input} has no key selector`);
  return selector;
}
