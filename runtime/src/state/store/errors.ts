import { KeyflowError } from "@keyflow/functions-sdk";

/**
 * A completed checkpoint that cannot be restored as written: its metadata record does not parse,
 * a manifest, a key group's record or a block of entries is missing or fails its checksum, or
 * LevelDB cannot read the records. Names the checkpoint and, when known, the operator and key
 * group. Terminal for that checkpoint: recovery falls back to the previous completed one
 * (`CheckpointStore.latestUsable`).
 */
export class CheckpointDamagedError extends KeyflowError {
  readonly code = "CHECKPOINT_DAMAGED";
  constructor(
    readonly checkpointId: number,
    readonly problem: string,
    readonly uid?: string,
    readonly keyGroup?: number,
    options?: ErrorOptions,
  ) {
    super(`checkpoint ${checkpointId} is damaged: ${where(uid, keyGroup)}${problem}`, options);
  }
}

/** The checkpoint is not one the store can restore: never completed, aborted, or dropped by retention. */
export class CheckpointNotFoundError extends KeyflowError {
  readonly code = "CHECKPOINT_NOT_FOUND";
  constructor(
    readonly checkpointId: number,
    options?: ErrorOptions,
  ) {
    super(`checkpoint ${checkpointId} is not a completed checkpoint of this store`, options);
  }
}

/** The checkpoint holds no state for this operator uid (removed or renamed operator). */
export class OperatorNotInCheckpointError extends KeyflowError {
  readonly code = "CHECKPOINT_OPERATOR_MISSING";
  constructor(
    readonly checkpointId: number,
    readonly uid: string,
    options?: ErrorOptions,
  ) {
    super(`checkpoint ${checkpointId} holds no state for operator "${uid}"`, options);
  }
}

/**
 * `complete` was called before every shard of every operator in the metadata had written its
 * snapshot, or with metadata that does not match what was written. Terminal for that checkpoint.
 */
export class CheckpointIncompleteError extends KeyflowError {
  readonly code = "CHECKPOINT_INCOMPLETE";
  constructor(
    readonly checkpointId: number,
    problem: string,
    options?: ErrorOptions,
  ) {
    super(`checkpoint ${checkpointId} cannot complete: ${problem}`, options);
  }
}

/** A write for a checkpoint that was aborted (or is being aborted); the write stopped and released its snapshot. */
export class CheckpointAbortedError extends KeyflowError {
  readonly code = "CHECKPOINT_ABORTED";
  constructor(
    readonly checkpointId: number,
    options?: ErrorOptions,
  ) {
    super(`checkpoint ${checkpointId} was aborted`, options);
  }
}

/**
 * A checkpoint id that the store cannot accept: not an integer in 1..2^32-2, not newer than every
 * completed checkpoint, or a second snapshot of the same operator shard. Names what was wrong.
 */
export class InvalidCheckpointRequestError extends KeyflowError {
  readonly code = "CHECKPOINT_INVALID_REQUEST";
  constructor(
    readonly checkpointId: number,
    problem: string,
    options?: ErrorOptions,
  ) {
    super(`checkpoint ${checkpointId}: ${problem}`, options);
  }
}

/** A keyed entry outside the key groups the snapshot speaks for, or a range outside the operator's key groups. */
export class KeyGroupOutOfRangeError extends KeyflowError {
  readonly code = "CHECKPOINT_KEY_GROUP_OUT_OF_RANGE";
  constructor(
    readonly checkpointId: number,
    readonly uid: string,
    readonly keyGroup: number,
    range: string,
    options?: ErrorOptions,
  ) {
    super(`checkpoint ${checkpointId}, operator "${uid}": key group ${keyGroup} is outside ${range}`, options);
  }
}

/**
 * The folder is not a checkpoint store this version can read: another LevelDB database, or a
 * newer store format. Terminal.
 */
export class StoreFormatError extends KeyflowError {
  readonly code = "CHECKPOINT_STORE_FORMAT";
  constructor(
    readonly dir: string,
    problem: string,
    options?: ErrorOptions,
  ) {
    super(`checkpoint store ${dir}: ${problem}`, options);
  }
}

/**
 * LevelDB failed under the store: the folder is locked by another process, a file is unreadable,
 * the disk is full. Keeps LevelDB's error as the cause. Retriable when the folder was only locked.
 */
export class StoreIoError extends KeyflowError {
  readonly code = "CHECKPOINT_STORE_IO";
  override readonly retriable: boolean;
  constructor(
    readonly dir: string,
    action: string,
    options: ErrorOptions & { retriable?: boolean },
  ) {
    super(`checkpoint store ${dir}: ${action} failed: ${causeText(options.cause)}`, options);
    this.retriable = options.retriable ?? false;
  }
}

/**
 * LevelDB could not read some of its files at open, and the store ran LevelDB's repair (which
 * keeps every readable table and moves unreadable ones to the folder's `lost/`). Checkpoints whose
 * records were in those files are gone or reported damaged; reported so a caller can log it.
 */
export class StoreRepairedError extends KeyflowError {
  readonly code = "CHECKPOINT_STORE_REPAIRED";
  constructor(
    readonly dir: string,
    options?: ErrorOptions,
  ) {
    super(
      `checkpoint store ${dir}: LevelDB could not read its files (${causeText(options?.cause)}); repaired`,
      options,
    );
  }
}

function where(uid: string | undefined, keyGroup: number | undefined): string {
  if (uid === undefined) return "";
  return keyGroup === undefined ? `operator "${uid}": ` : `operator "${uid}", key group ${keyGroup}: `;
}

function causeText(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
