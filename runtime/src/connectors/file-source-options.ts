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
