import type { Key } from "@keyflow/functions-sdk";
import { StateTable } from "../state/state-table.js";
import { AbstractOperator } from "./abstract-operator.js";
import { keySelectorOf } from "./keyed-process-operator.js";
import type { OperatorContext } from "./operator.js";

/**
 * Rolling aggregations (`reduce`, `sum`, `min`, `max`, `minBy`, `maxBy`): folds each record into
 * its key's running value and emits the new value. The hot path of keyed jobs: one selector
 * call, one table lookup and one reduce per record.
 */
export class RollingReduceOperator extends AbstractOperator {
  readonly table: StateTable<unknown>;
  private readonly selector: (value: unknown) => unknown;

  constructor(
    context: OperatorContext,
    private readonly reduce: (a: unknown, b: unknown) => unknown,
  ) {
    super(context);
    this.table = new StateTable(context.runtime.maxParallelism, context.clock, undefined);
    this.selector = keySelectorOf(context, 0);
  }
  protected functions(): readonly unknown[] {
    return [];
  }
  processRecord(value: unknown, timestamp: number): void {
    let result: unknown;
    try {
      const key = this.selector(value) as Key;
      const entry = this.table.get(key);
      if (entry === undefined) {
        this.table.put(key, value);
        result = value;
      } else {
        result = this.reduce(entry.value, value);
        entry.value = result;
      }
    } catch (error) {
      throw this.failure(error, value);
    }
    this.output.collect(result, timestamp);
  }
}
