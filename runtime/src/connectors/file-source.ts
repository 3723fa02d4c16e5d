import type { Source, SourceReader, SourceReaderContext } from "@keyflow/functions-sdk";
import type {
  CsvFileSourceOptions,
  CsvRow,
  FileSourceOptions,
  NdjsonFileSourceOptions,
} from "./file-source-options.js";
import { FileSourceReader } from "./file-source-reader.js";

/**
 * A bounded source reading the records of one file, NDJSON or CSV, with asynchronous reads in
 * chunks (a poll waiting for the disk returns a promise; it never blocks the shard's thread).
 *
 * Work is split by record: reader i of p emits records i, i+p, i+2p, … (counting records, not
 * blank lines or the header), so the union over readers is every record exactly once, and which
 * reader emits a record depends only on the file and the parallelism. Each reader scans the
 * whole file and parses only its own records.
 *
 * Checkpoints: reader i's share is a split, and its position is the byte offset of the next
 * line not scanned yet (after the last record handed on, not after what was read ahead), the
 * record index reached, whether the CSV header was read and the column names in force, the
 * file's path, size and modification time, and the split's shardIndex and parallelism (see
 * FileSplitPosition). A restored reader seeks to the smallest offset of its splits and emits
 * exactly the records they had not emitted.
 *
 * Rescaling: the runtime keeps source positions as "split" list state, dealt out so that each
 * old split goes to exactly one new reader (not "union": no reader sees the others'). A split
 * therefore stays what it was made as, records i, i+p, … of the first run's parallelism p,
 * whoever resumes it: a reader given several scans the file once for all of them, a reader given
 * none ends at once. That is exact at any parallelism, but after scaling up past p the new
 * readers stay idle; the work spreads only over as many readers as there were splits.
 *
 * A restored reader checks the file before reading: another path, fewer bytes than the offset,
 * or another size or modification time than recorded fails the job with
 * FILE_CHANGED_SINCE_CHECKPOINT naming the file and the offset, instead of skipping or doubling
 * records. (Keep the file as it was, or copy it with its modification time, `cp -p`.)
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
