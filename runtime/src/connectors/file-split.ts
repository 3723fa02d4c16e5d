import { FileChangedError } from "./errors.js";
import type { FileIdentity } from "./text-record-reader.js";

/**
 * Where a split of a file source stands at a checkpoint, as msgpack-encodable plain data.
 *
 * A split is the share of records of one reader of the job's first run: records `shardIndex`,
 * `shardIndex + parallelism`, … (counting records over the whole file; blank lines and the CSV
 * header are not records). The split emitted exactly its records below `record`, none from it on.
 * Splits keep the shardIndex and parallelism they were made with through every restore, so what
 * a split holds never changes, whichever reader resumes it.
 */
export interface FileSplitPosition {
  /** The file, as an absolute path. */
  readonly path: string;
  /** The split's records are those whose index modulo `parallelism` is `shardIndex`. */
  readonly shardIndex: number;
  readonly parallelism: number;
  /** Index of the next record not scanned yet. */
  readonly record: number;
  /**
   * Byte offset in the file of the next line not scanned yet: just after the last record the
   * reader handed on (or skipped as another split's), not after what it had read ahead.
   */
  readonly offset: number;
  /** 1-based line at `offset`, so errors after a restore name the right line. */
  readonly line: number;
  /** The CSV header line is behind `offset`. */
  readonly headerRead: boolean;
  /** CSV column names in force (from the options, the header or the first record); absent when none yet. */
  readonly columns?: readonly string[];
  /** The file's size and modification time when the split was read; absent if it was not opened yet. */
  readonly size?: number;
  readonly mtimeMs?: number;
}

/** A split's position at the start of a fresh run. */
export function freshSplit(path: string, shardIndex: number, parallelism: number): FileSplitPosition {
  return { path, shardIndex, parallelism, record: 0, offset: 0, line: 1, headerRead: false };
}

/**
 * Checks that a restored split is a file split position (a checkpoint of another source under
 * the same operator uid would not be) and copies it.
 */
export function restoredSplit(path: string, item: unknown): FileSplitPosition {
  const p = item as Partial<Record<keyof FileSplitPosition, unknown>> | null;
  const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
  if (
    typeof p !== "object" ||
    p === null ||
    typeof p.path !== "string" ||
    !isCount(p.shardIndex) ||
    !isCount(p.parallelism) ||
    p.shardIndex >= p.parallelism ||
    !isCount(p.record) ||
    !isCount(p.offset) ||
    !isCount(p.line) ||
    typeof p.headerRead !== "boolean" ||
    (p.columns !== undefined && !(Array.isArray(p.columns) && p.columns.every((c) => typeof c === "string"))) ||
    (p.size !== undefined && !isCount(p.size)) ||
    (p.mtimeMs !== undefined && typeof p.mtimeMs !== "number")
  ) {
    throw new TypeError(`${path}: a restored split is not a file source position: ${JSON.stringify(item)}`);
  }
  return {
    path: p.path,
    shardIndex: p.shardIndex,
    parallelism: p.parallelism,
    record: p.record,
    offset: p.offset,
    line: p.line,
    headerRead: p.headerRead,
    ...(p.columns === undefined ? {} : { columns: [...(p.columns as string[])] }),
    ...(p.size === undefined ? {} : { size: p.size }),
    ...(p.mtimeMs === undefined ? {} : { mtimeMs: p.mtimeMs as number }),
  };
}

/**
 * Throws FileChangedError unless the file at `path`, as just opened, is the one `split` was
 * read from: the same path, at least `offset` bytes, and the size and modification time
 * recorded (when the split had opened the file; a split that had not is at offset 0 and can
 * read any file from its start).
 */
export function checkUnchanged(path: string, split: FileSplitPosition, file: FileIdentity): void {
  const { offset } = split;
  if (split.path !== path) {
    throw new FileChangedError(path, offset, `the checkpoint's position is in another file, ${split.path}`);
  }
  if (file.size < offset) {
    throw new FileChangedError(path, offset, `the file has ${file.size} bytes now, fewer than the offset`);
  }
  if (split.size !== undefined && split.size !== file.size) {
    throw new FileChangedError(path, offset, `the file had ${split.size} bytes at the checkpoint, ${file.size} now`);
  }
  if (split.mtimeMs !== undefined && split.mtimeMs !== file.mtimeMs) {
    const when = (ms: number) => `${new Date(ms).toISOString()} (${ms} ms)`;
    const problem = `the file was modified: mtime ${when(split.mtimeMs)} at the checkpoint, ${when(file.mtimeMs)} now`;
    throw new FileChangedError(path, offset, problem);
  }
}
