import type { Key } from "@keyflow/functions-sdk";
import { KeyedStateBackend } from "../state/keyed-state-backend.js";
import type { StateTable } from "../state/state-table.js";
import { AbstractOperator } from "./abstract-operator.js";
import { keySelectorOf } from "./keyed-process-operator.js";
import type { OperatorContext } from "./operator.js";

/**
 * Rolling aggregations (`reduce`, `sum`, `min`, `max`, `minBy`, `maxBy`): folds each record into
 * its key's running value and emits the new value. The hot path of keyed jobs: one selector
 * call, one table lookup and one reduce per record. Checkpoints the running values as keyed
 * state "__reduce".
 */
export class RollingReduceOperator extends AbstractOperator {
  readonly table: StateTable<unknown>;
  private readonly selector: (value: unknown) => unknown;

  constructor(
    context: OperatorContext,
    private readonly reduce: (a: unknown, b: unknown) => unknown,
  ) {
    super(context);
    const backend = new KeyedStateBackend(context.runtime.maxParallelism, context.clock);
    this.table = backend.table("__reduce", { kind: "value" });
    this.checkpointState([backend]);
    this.selector = keySelectorOf(context, 0);
  }
  protected functions(): readonly unknown[] {
    return [];
  }
  processRecord(value: unknown, timestamp: number): void {
    let result: unknown;
    try {
      const key = this.selector(value) as Key;
      const current = this.table.get(key);
      result = current === undefined ? value : this.reduce(current, value);
      this.table.set(key, result);
    } catch (error) {
      throw this.failure(error, value);
    }
    this.output.collect(result, timestamp);
  }
}
