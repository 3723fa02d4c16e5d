// @keyflow/runtime/connectors: sources and sinks that do I/O, for jobs to import.

export {
  FileChangedError,
  FileIoError,
  FileNotFoundError,
  FileRecordMalformedError,
  FileRecordUnwritableError,
} from "./errors.js";
export { fileSource } from "./file-source.js";
export type {
  CsvFileSourceOptions,
  CsvOptions,
  CsvRow,
  FileSourceOptions,
  NdjsonFileSourceOptions,
} from "./file-source-options.js";
export type { NdjsonFileSinkOptions } from "./ndjson-file-sink.js";
export { ndjsonFileSink, shardFilePath } from "./ndjson-file-sink.js";
