// @keyflow/runtime/connectors: sources and sinks that do I/O, for jobs to import.

export { FileIoError, FileNotFoundError, FileRecordMalformedError, FileRecordUnwritableError } from "./errors.js";
export type {
  CsvFileSourceOptions,
  CsvOptions,
  CsvRow,
  FileSourceOptions,
  NdjsonFileSourceOptions,
} from "./file-source.js";
export { fileSource } from "./file-source.js";
export type { NdjsonFileSinkOptions } from "./ndjson-file-sink.js";
export { ndjsonFileSink, shardFilePath } from "./ndjson-file-sink.js";
