import { describeRecord, KeyflowError } from "@keyflow/functions-sdk";

/**
 * A file source's file does not exist. Terminal: rerunning the same job will not create it.
 * Raised on the source's first poll, so the job fails naming the source operator.
 */
export class FileNotFoundError extends KeyflowError {
  readonly code = "FILE_NOT_FOUND";
  constructor(
    readonly path: string,
    options?: ErrorOptions,
  ) {
    super(`file not found: ${path}`, options);
  }
}

/**
 * A line of a file did not decode to a record: bad JSON, a CSV line with the wrong number of
 * fields or a broken quote, or a `parse` function that threw (its error is the cause). Names the
 * file, the 1-based line where the record starts, and the line itself (shortened). Terminal:
 * the file says the same thing on every run, and dropping the line would silently lose data.
 */
export class FileRecordMalformedError extends KeyflowError {
  readonly code = "FILE_RECORD_MALFORMED";
  /** The offending line, shortened for messages. */
  readonly record: string;
  constructor(
    readonly path: string,
    readonly line: number,
    readonly problem: string,
    text: string,
    options?: ErrorOptions,
  ) {
    const record = describeRecord(text);
    super(`${path}:${line}: ${problem}: ${record}`, options);
    this.record = record;
  }
}

/** A record cannot be written as a JSON line (undefined, a function, a bigint). Terminal for the record. */
export class FileRecordUnwritableError extends KeyflowError {
  readonly code = "FILE_RECORD_UNWRITABLE";
  constructor(
    readonly path: string,
    problem: string,
    options?: ErrorOptions,
  ) {
    super(`${path}: cannot write record as JSON: ${problem}`, options);
  }
}

/**
 * Reading or writing a file failed at the operating system (permissions, a full disk, a folder
 * where a file was expected). The cause is the system error. Not retried by the connector.
 */
export class FileIoError extends KeyflowError {
  readonly code = "FILE_IO_FAILED";
  constructor(
    readonly path: string,
    readonly operation: "open" | "read" | "write" | "close",
    options?: ErrorOptions,
  ) {
    const cause = options?.cause;
    super(`${operation} ${path} failed: ${cause instanceof Error ? cause.message : String(cause)}`, options);
  }
}

/**
 * A file source cannot resume where a checkpoint left it, because the file is not the one it
 * read then: shorter than the recorded byte offset, of another size or modification time, or
 * another path. Names the file and the offset. Terminal: reading on from the offset would skip
 * or double records without a word; restore the file as it was (a copy keeping its modification
 * time, `cp -p`), or start the job without the checkpoint.
 */
export class FileChangedError extends KeyflowError {
  readonly code = "FILE_CHANGED_SINCE_CHECKPOINT";
  constructor(
    readonly path: string,
    readonly offset: number,
    readonly problem: string,
    options?: ErrorOptions,
  ) {
    super(`${path}: cannot resume at byte ${offset}: ${problem}`, options);
  }
}
