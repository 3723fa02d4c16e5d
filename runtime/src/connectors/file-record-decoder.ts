import { CsvSyntaxError, parseCsvRecord } from "./csv.js";
import { FileRecordMalformedError } from "./errors.js";
import type { CsvFileSourceOptions, CsvRow } from "./file-source-options.js";
import type { TextRecord } from "./text-record-reader.js";

/**
 * Turns the text records of one file into values, for a file source reader: which lines are
 * blank, the CSV header, and the column names learnt from it (which a restored reader, starting
 * past the header, gets back from its checkpoint instead).
 */
export interface FileRecordDecoder<T> {
  /** Decodes a record, or throws FileRecordMalformedError naming the file and line. */
  decode(record: TextRecord): T;
  /** Blank lines are not records. */
  blank(text: string): boolean;
  /** Reads the header line, for a CSV file that has one; undefined otherwise. */
  readonly header: ((record: TextRecord) => void) | undefined;
  /**
   * For a CSV file without column names: every reader reads record 0, even another reader's,
   * since its field count holds for all records.
   */
  readonly peekFirst: ((record: TextRecord) => void) | undefined;
  /** The CSV column names in force, once known; undefined for NDJSON. */
  columns(): readonly string[] | undefined;
  /** Resumes with column names recorded at a checkpoint, unless the options name them. */
  restoreColumns(columns: readonly string[]): void;
}

export function ndjsonDecoder<T>(path: string, parse: ((value: unknown) => T) | undefined): FileRecordDecoder<T> {
  return {
    decode(record) {
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
    },
    blank: (text) => text.trim().length === 0,
    header: undefined,
    peekFirst: undefined,
    columns: () => undefined,
    restoreColumns() {},
  };
}

export function csvDecoder<T>(path: string, options: CsvFileSourceOptions<T>): FileRecordDecoder<T> {
  const delimiter = options.csv?.delimiter ?? ",";
  const parse = options.parse as ((row: CsvRow, fields: readonly string[]) => T) | undefined;
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
  return {
    decode,
    blank: (text) => text.length === 0,
    header: hasHeader ? header : undefined,
    peekFirst,
    columns: () => names,
    restoreColumns(columns) {
      names ??= [...columns];
    },
  };
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
