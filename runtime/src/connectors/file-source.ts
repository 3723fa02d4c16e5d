import { resolve } from "node:path";
import type { PollResult, Source, SourceOutput, SourceReader, SourceReaderContext } from "@keyflow/functions-sdk";
import { CsvSyntaxError, parseCsvRecord } from "./csv.js";
import { FileRecordMalformedError } from "./errors.js";
import { type TextRecord, TextRecordReader } from "./text-record-reader.js";

/** How a CSV file is laid out. */
export interface CsvOptions<C extends string = string> {
  /** The first line names the columns and is not a record. Default true. */
  readonly header?: boolean;
  /** Separates fields: one or more characters, neither a quote nor a line break. Default ",". */
  readonly delimiter?: string;
  /**
   * Names of the columns, in order. With a header line these names win over the header's (whose
   * field count must still match). Without either, columns are named "0", "1", ….
   */
  readonly columns?: readonly C[];
}

/** One CSV record as an object from column name to field text. */
export type CsvRow<C extends string = string> = { readonly [Name in C]: string };

interface FileSourceCommonOptions<T> {
  /** The file to read; relative paths resolve against the working directory. */
  readonly path: string;
  /** Event time of a record, when records carry one. */
  readonly timestamp?: (value: T) => number;
  /** Bytes per read. Default 64 KiB. */
  readonly chunkSize?: number;
}

/** One JSON value per line. */
export interface NdjsonFileSourceOptions<T> extends FileSourceCommonOptions<T> {
  readonly format: "ndjson";
  /**
   * Turns a line's JSON value into a record; throw to reject the line as malformed (the job then
   * fails naming the line). Default: the parsed value as is, typed as the `T` you name.
   */
  readonly parse?: (value: unknown) => T;
}

/** Comma-separated values (RFC 4180: quoted fields may hold delimiters, doubled quotes and line breaks). */
export interface CsvFileSourceOptions<T, C extends string = string> extends FileSourceCommonOptions<T> {
  readonly format: "csv";
  readonly csv?: CsvOptions<C>;
  /**
   * Turns a record into a value, from its row object or its fields in order; throw to reject the
   * line as malformed. Default: the row object.
   */
  readonly parse?: (row: CsvRow<C>, fields: readonly string[]) => T;
}

export type FileSourceOptions<T, C extends string = string> = NdjsonFileSourceOptions<T> | CsvFileSourceOptions<T, C>;

/**
 * A bounded source reading the records of one file, NDJSON or CSV, with asynchronous reads in
 * chunks (a poll waiting for the disk returns a promise; it never blocks the shard's thread).
 *
 * Work is split by record: reader i of p emits records i, i+p, i+2p, … (counting records, not
 * blank lines or the header), so the union over readers is every record exactly once, and which
 * reader emits a record depends only on the file and the parallelism. Each reader scans the
 * whole file and parses only its own records.
 *
 * Blank lines are skipped. Anything else that does not decode (bad JSON, a CSV record with the
 * wrong number of fields or a broken quote, a `parse` that throws) fails the job with
 * FILE_RECORD_MALFORMED naming the file, the line and the line's text; a missing file fails it
 * with FILE_NOT_FOUND. Never a silent drop.
 *
 * ```ts
 * env.fromSource(
 *   fileSource({
 *     path: "readings.csv",
 *     format: "csv",
 *     parse: (row) => ({ id: row.id, temperature: Number(row.temperature) }),
 *   }),
 *   "Readings",
 * );
 * ```
 */
export function fileSource<T, const C extends string = string>(
  options: CsvFileSourceOptions<T, C> & { readonly parse: (row: CsvRow<C>, fields: readonly string[]) => T },
): Source<T>;
export function fileSource<const C extends string = string>(
  options: CsvFileSourceOptions<CsvRow<C>, C>,
): Source<CsvRow<C>>;
export function fileSource<T = unknown>(options: NdjsonFileSourceOptions<T>): Source<T>;
export function fileSource<T>(options: FileSourceOptions<T>): Source<T> {
  // Checked at run time too: a job module in plain JavaScript gets no compiler's help.
  const format: string = options.format;
  if (format !== "ndjson" && format !== "csv") {
    throw new RangeError(`fileSource format must be "ndjson" or "csv", got ${JSON.stringify(format)}`);
  }
  if (options.path.length === 0) throw new RangeError("fileSource needs a non-empty path");
  if (options.format === "csv") {
    const delimiter = options.csv?.delimiter ?? ",";
    if (delimiter.length === 0 || /["\r\n]/.test(delimiter)) {
      throw new RangeError(
        `CSV delimiter must be non-empty without quotes or line breaks, got ${JSON.stringify(delimiter)}`,
      );
    }
  }
  return {
    createReader(context: SourceReaderContext): SourceReader<T> {
      return new FileSourceReader<T>(options, context);
    },
  };
}

/** Decodes the text of a record into a value, or throws FileRecordMalformedError. */
type RecordDecoder<T> = (record: TextRecord) => T;

class FileSourceReader<T> implements SourceReader<T> {
  private readonly records: TextRecordReader;
  private readonly path: string;
  private readonly shardIndex: number;
  private readonly parallelism: number;
  private readonly timestamp: ((value: T) => number) | undefined;
  /** Index of the next data record over the whole file. */
  private index = 0;
  private readonly decode: RecordDecoder<T>;
  /** For a CSV file with a header line not read yet. */
  private readonly header: ((record: TextRecord) => void) | undefined;
  private headerPending: boolean;
  /** A CSV file without column names: every reader reads record 0, since its field count holds for all. */
  private readonly peekFirst: ((record: TextRecord) => void) | undefined;
  private readonly blank: (text: string) => boolean;
  private failure: unknown;

  constructor(options: FileSourceOptions<T>, context: SourceReaderContext) {
    this.path = resolve(options.path);
    this.shardIndex = context.shardIndex;
    this.parallelism = context.parallelism;
    this.timestamp = options.timestamp;
    this.records = new TextRecordReader({
      path: this.path,
      quoteAware: options.format === "csv",
      ...(options.chunkSize === undefined ? {} : { chunkSize: options.chunkSize }),
    });
    if (options.format === "ndjson") {
      this.decode = ndjsonDecoder(this.path, options.parse);
      this.header = undefined;
      this.peekFirst = undefined;
      this.blank = (text) => text.trim().length === 0;
    } else {
      const csv = csvDecoder(this.path, options);
      this.decode = csv.decode;
      this.header = csv.header;
      this.peekFirst = csv.peekFirst;
      this.blank = (text) => text.length === 0;
    }
    this.headerPending = this.header !== undefined;
  }

  poll(output: SourceOutput<T>, max: number): PollResult {
    if (this.failure !== undefined) throw this.failure;
    // Records of other readers cost a scan but no parse; bound the work of one poll by both.
    const scanLimit = max * this.parallelism;
    let emitted = 0;
    for (let scanned = 0; emitted < max && scanned < scanLimit; scanned++) {
      const record = this.records.next();
      if (record === undefined) return this.records.ended ? "end" : this.read();
      if (this.blank(record.text)) continue;
      if (this.headerPending) {
        this.headerPending = false;
        this.header?.(record);
        continue;
      }
      const index = this.index++;
      if (index % this.parallelism !== this.shardIndex) {
        if (index === 0) this.peekFirst?.(record);
        continue;
      }
      const value = this.decode(record);
      if (this.timestamp === undefined) output.collect(value);
      else output.collect(value, this.timestamp(value));
      emitted++;
    }
    return "more";
  }

  /**
   * Reads the next chunk. A failed read (a missing file, an I/O error) is thrown from the next
   * poll rather than rejected, so it fails the shard the way a malformed record does: as an
   * error of this source's operator.
   */
  private read(): Promise<void> {
    return this.records.fill().catch((error: unknown) => {
      this.failure = error;
    });
  }

  close(): Promise<void> {
    return this.records.close();
  }
}

function ndjsonDecoder<T>(path: string, parse: ((value: unknown) => T) | undefined): RecordDecoder<T> {
  return (record) => {
    let value: unknown;
    try {
      value = JSON.parse(record.text);
    } catch (error) {
      throw new FileRecordMalformedError(path, record.line, `invalid JSON (${messageOf(error)})`, record.text, {
        cause: error,
      });
    }
    if (parse === undefined) return value as T;
    return parseOrFail(path, record, () => parse(value));
  };
}

function csvDecoder<T>(
  path: string,
  options: CsvFileSourceOptions<T>,
): {
  decode: RecordDecoder<T>;
  header: ((record: TextRecord) => void) | undefined;
  peekFirst: ((record: TextRecord) => void) | undefined;
} {
  const delimiter = options.csv?.delimiter ?? ",";
  const parse = options.parse;
  let names: readonly string[] | undefined = options.csv?.columns;
  if (names !== undefined)
    checkUnique(names, (duplicate) => new RangeError(`CSV column "${duplicate}" is named twice`));

  const fieldsOf = (record: TextRecord): string[] => {
    try {
      return parseCsvRecord(record.text, delimiter);
    } catch (error) {
      if (!(error instanceof CsvSyntaxError)) throw error;
      throw new FileRecordMalformedError(path, record.line, error.message, record.text);
    }
  };
  const header = (record: TextRecord): void => {
    const fields = fieldsOf(record);
    if (names === undefined) {
      checkUnique(
        fields,
        (duplicate) =>
          new FileRecordMalformedError(path, record.line, `header names column "${duplicate}" twice`, record.text),
      );
      names = fields;
    } else if (fields.length !== names.length) {
      const problem = `header has ${fields.length} fields but ${names.length} columns are named`;
      throw new FileRecordMalformedError(path, record.line, problem, record.text);
    }
  };
  const nameByPosition = (fields: readonly string[]): readonly string[] => fields.map((_field, i) => String(i));
  const decode = (record: TextRecord): T => {
    const fields = fieldsOf(record);
    if (names === undefined) names = nameByPosition(fields);
    if (fields.length !== names.length) {
      const problem = `expected ${names.length} fields, got ${fields.length}`;
      throw new FileRecordMalformedError(path, record.line, problem, record.text);
    }
    const row: Record<string, string> = {};
    for (let i = 0; i < fields.length; i++) {
      const name = names[i] as string;
      // Assigning "__proto__" would set the prototype instead of adding a field.
      if (name === "__proto__") {
        Object.defineProperty(row, name, { value: fields[i], enumerable: true, writable: true, configurable: true });
      } else {
        row[name] = fields[i] as string;
      }
    }
    if (parse === undefined) return row as T;
    return parseOrFail(path, record, () => parse(row, fields));
  };
  const hasHeader = options.csv?.header ?? true;
  const peekFirst =
    hasHeader || names !== undefined
      ? undefined
      : (record: TextRecord): void => {
          names ??= nameByPosition(fieldsOf(record));
        };
  return { decode, header: hasHeader ? header : undefined, peekFirst };
}

function parseOrFail<T>(path: string, record: TextRecord, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new FileRecordMalformedError(path, record.line, `parse failed (${messageOf(error)})`, record.text, {
      cause: error,
    });
  }
}

function checkUnique(names: readonly string[], failure: (duplicate: string) => Error): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw failure(name);
    seen.add(name);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
