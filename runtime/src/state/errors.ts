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

/**
 * A checkpoint holds state `state` of operator `operator` at a version the job cannot take:
 * newer than the descriptor's (the job is older than the one that wrote it), or older with no
 * `migrate` hook to bring its values forward. Checked for every state the checkpoint names,
 * whether or not the restoring shard has entries of it, so a savepoint restores or fails the same
 * way at any parallelism. Terminal: deploy the version that wrote it, or add a migration.
 */
export class StateVersionError extends KeyflowError {
  readonly code = "STATE_VERSION_UNSUPPORTED";
  constructor(
    readonly operator: string,
    readonly state: string,
    readonly storedVersion: number,
    readonly declaredVersion: number,
  ) {
    super(
      `operator "${operator}": state "${state}" was stored at version ${storedVersion}, the job declares version ${declaredVersion}` +
        (storedVersion > declaredVersion
          ? ": a newer job wrote it, this job cannot read it"
          : ": the state has no migrate hook to bring older values forward"),
    );
  }
}

/**
 * The `migrate` hook of state `state` of operator `operator` threw for the value of `key` while
 * restoring it from version `fromVersion` to `toVersion`. The cause is the hook's error. Terminal:
 * the restore fails before any record is processed; fix the hook (the checkpoint is unchanged).
 */
export class StateMigrationError extends KeyflowError {
  readonly code = "STATE_MIGRATION_FAILED";
  constructor(
    readonly operator: string,
    readonly state: string,
    readonly key: string,
    readonly fromVersion: number,
    readonly toVersion: number,
    cause: unknown,
  ) {
    super(
      `operator "${operator}": migrating state "${state}" of key ${key} from version ${fromVersion} to ${toVersion} failed: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}
