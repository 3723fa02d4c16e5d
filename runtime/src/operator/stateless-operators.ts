import type { Collector } from "@keyflow/functions-sdk";
import { AbstractOperator } from "./abstract-operator.js";
import type { OperatorContext } from "./operator.js";
import { TimestampedCollector } from "./timestamped-collector.js";

type Fn1 = (value: unknown) => unknown;

/** Calls a plain function, or the named method of a rich function object bound to it. */
export function callable<F>(fn: unknown, method: string): F {
  if (typeof fn === "function") return fn as F;
  const bound = (fn as Record<string, unknown>)[method];
  if (typeof bound !== "function") throw new TypeError(`expected a function or an object with a ${method}() method`);
  return bound.bind(fn) as F;
}

/** `map`: one record in, one record out, same timestamp. */
export class MapOperator extends AbstractOperator {
  private readonly fn: Fn1;
  constructor(
    context: OperatorContext,
    private readonly userFunction: unknown,
  ) {
    super(context);
    this.fn = callable<Fn1>(userFunction, "map");
  }
  protected functions(): readonly unknown[] {
    return [this.userFunction];
  }
  processRecord(value: unknown, timestamp: number): void {
    let result: unknown;
    try {
      result = this.fn(value);
    } catch (error) {
      throw this.failure(error, value);
    }
    this.output.collect(result, timestamp);
  }
}

/** `filter`: forwards the records for which the predicate holds. */
export class FilterOperator extends AbstractOperator {
  private readonly fn: Fn1;
  constructor(
    context: OperatorContext,
    private readonly userFunction: unknown,
  ) {
    super(context);
    this.fn = callable<Fn1>(userFunction, "filter");
  }
  protected functions(): readonly unknown[] {
    return [this.userFunction];
  }
  processRecord(value: unknown, timestamp: number): void {
    let keep: unknown;
    try {
      keep = this.fn(value);
    } catch (error) {
      throw this.failure(error, value);
    }
    if (keep) this.output.collect(value, timestamp);
  }
}

/** `flatMap`: any number of records out, each with the input's timestamp. */
export class FlatMapOperator extends AbstractOperator {
  private readonly fn: (value: unknown, out: Collector<unknown>) => void;
  private readonly collector: TimestampedCollector;
  constructor(
    context: OperatorContext,
    private readonly userFunction: unknown,
  ) {
    super(context);
    this.fn = callable(userFunction, "flatMap");
    this.collector = new TimestampedCollector(this.output);
  }
  protected functions(): readonly unknown[] {
    return [this.userFunction];
  }
  processRecord(value: unknown, timestamp: number): void {
    this.collector.ts = timestamp;
    try {
      this.fn(value, this.collector);
    } catch (error) {
      throw this.failure(error, value);
    }
  }
}
