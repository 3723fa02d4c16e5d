import { describeRecord, KeyflowError } from "@keyflow/functions-sdk";

/**
 * A value of keyed state could not be preserved or encoded for a snapshot (a function or a symbol
 * in it: state values must be msgpack-encodable). Names the state and the key. The checkpoint
 * fails; processing is not affected. Terminal for that checkpoint: the next one fails the same
 * way while the value stays.
 */
export class StateNotSnapshottableError extends KeyflowError {
  readonly code = "STATE_NOT_SNAPSHOTTABLE";
  constructor(
    readonly state: string,
    readonly key: string,
    cause: unknown,
  ) {
    super(
      `state "${state}" of key ${key} cannot be snapshotted (state values must be msgpack-encodable: no functions or symbols): ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }

  static of(state: string, key: unknown, cause: unknown): StateNotSnapshottableError {
    return new StateNotSnapshottableError(state, describeRecord(key), cause);
  }
}

/**
 * A checkpoint's state does not fit the operator it is restored into: a state name the operator
 * does not declare, or an entry that does not decode. Names the operator and the state. Terminal:
 * the job changed incompatibly (a migration, or dropping the state on purpose, is the way out).
 */
export class StateRestoreError extends KeyflowError {
  readonly code = "STATE_RESTORE_MISMATCH";
  constructor(
    readonly operator: string,
    readonly state: string,
    problem: string,
    options?: ErrorOptions,
  ) {
    super(`operator "${operator}": cannot restore state "${state}": ${problem}`, options);
  }
}
