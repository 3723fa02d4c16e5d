import { resolve } from "node:path";
import type { PollResult, SourceOutput, SourceReader, SourceReaderContext } from "@keyflow/functions-sdk";
import { csvDecoder, type FileRecordDecoder, ndjsonDecoder } from "./file-record-decoder.js";
import type { FileSourceOptions } from "./file-source-options.js";
import { checkUnchanged, type FileSplitPosition, freshSplit, restoredSplit } from "./file-split.js";
import { type FileIdentity, TextRecordReader } from "./text-record-reader.js";

/**
 * Reads a file source's splits (see fileSource): one made from shardIndex and parallelism on a
 * fresh start, or those restored from a checkpoint, any number. One scan of the file serves them
 * all, from the smallest offset among them; a record is emitted when a split holds it and had
 * not reached it yet. Polled from the shard's thread, one poll at a time.
 */
export class FileSourceReader<T> implements SourceReader<T> {
  private readonly path: string;
  /** As made or restored: each emits its records from its `record` on. Never changed; snapshots derive from the scan. */
  private readonly splits: readonly FileSplitPosition[];
  /** Undefined when the reader was given no split (after scaling up): it has nothing to read. */
  private readonly records: TextRecordReader | undefined;
  private readonly decoder: FileRecordDecoder<T>;
  private readonly timestamp: ((value: T) => number) | undefined;
  /** Records scanned per record emitted, at most: with a record limit per poll, bounds its work. */
  private readonly scanPerEmit: number;
  /** Index of the next record the scan reaches, over the whole file. */
  private record: number;
  private headerPending: boolean;
  /** The file as opened, checked against the restored splits; undefined until then. */
  private identity: FileIdentity | undefined;
  private failure: unknown;

  constructor(options: FileSourceOptions<T>, context: SourceReaderContext) {
    this.path = resolve(options.path);
    this.timestamp = options.timestamp;
    this.decoder =
      options.format === "ndjson" ? ndjsonDecoder(this.path, options.parse) : csvDecoder(this.path, options);
    const restored = context.restoredSplits;
    this.splits =
      restored === undefined
        ? [freshSplit(this.path, context.shardIndex, context.parallelism)]
        : restored.map((item) => restoredSplit(this.path, item));
    let start: FileSplitPosition | undefined;
    for (const split of this.splits) if (start === undefined || split.offset < start.offset) start = split;
    this.scanPerEmit = Math.max(1, ...this.splits.map((split) => split.parallelism));
    this.record = start?.record ?? 0;
    this.headerPending = this.decoder.header !== undefined && !(start?.headerRead ?? false);
    if (start?.columns !== undefined) this.decoder.restoreColumns(start.columns);
    this.records =
      start === undefined
        ? undefined
        : new TextRecordReader({
            path: this.path,
            quoteAware: options.format === "csv",
            start: { offset: start.offset, line: start.line },
            ...(options.chunkSize === undefined ? {} : { chunkSize: options.chunkSize }),
          });
  }

  poll(output: SourceOutput<T>, max: number): PollResult {
    if (this.failure !== undefined) throw this.failure;
    const records = this.records;
    if (records === undefined) return "end";
    const decoder = this.decoder;
    const scanLimit = max * this.scanPerEmit;
    let emitted = 0;
    for (let scanned = 0; emitted < max && scanned < scanLimit; scanned++) {
      const record = records.next();
      if (record === undefined) return records.ended ? "end" : this.read(records);
      if (decoder.blank(record.text)) continue;
      if (this.headerPending) {
        this.headerPending = false;
        decoder.header?.(record);
        continue;
      }
      const index = this.record++;
      if (!this.holds(index)) {
        if (index === 0) decoder.peekFirst?.(record);
        continue;
      }
      const value = decoder.decode(record);
      if (this.timestamp === undefined) output.collect(value);
      else output.collect(value, this.timestamp(value));
      emitted++;
    }
    return "more";
  }

  /** A split holds record `index` and had not emitted it before this reader began. */
  private holds(index: number): boolean {
    for (const split of this.splits) {
      if (index >= split.record && index % split.parallelism === split.shardIndex) return true;
    }
    return false;
  }

  /**
   * Each split where the scan stands now, or where it was restored at when the scan has not
   * reached it yet. The offset is after the last record taken from the text reader, every one of
   * which this reader emitted or left to another split, never after what it read ahead.
   */
  snapshotSplits(): FileSplitPosition[] {
    const records = this.records;
    if (records === undefined) return [];
    const { offset, line } = records.position;
    const columns = this.decoder.columns();
    const identity = this.identity;
    return this.splits.map((split): FileSplitPosition => {
      if (split.record > this.record) return split;
      const size = identity?.size ?? split.size;
      const mtimeMs = identity?.mtimeMs ?? split.mtimeMs;
      return {
        path: split.path,
        shardIndex: split.shardIndex,
        parallelism: split.parallelism,
        record: this.record,
        offset,
        line,
        headerRead: !this.headerPending,
        ...(columns === undefined ? {} : { columns: [...columns] }),
        ...(size === undefined ? {} : { size }),
        ...(mtimeMs === undefined ? {} : { mtimeMs }),
      };
    });
  }

  /**
   * Reads the next chunk, opening the file first and checking it against the splits. A failure
   * (a missing or changed file, an I/O error) is thrown from the next poll rather than
   * rejected, so it fails the shard the way a malformed record does: as an error of this
   * source's operator.
   */
  private read(records: TextRecordReader): Promise<void> {
    return this.openAndFill(records).catch((error: unknown) => {
      this.failure = error;
    });
  }

  private async openAndFill(records: TextRecordReader): Promise<void> {
    if (this.identity === undefined) {
      await records.open();
      const identity = records.identity;
      if (identity === undefined) return; // closed while opening
      for (const split of this.splits) checkUnchanged(this.path, split, identity);
      this.identity = identity;
    }
    await records.fill();
  }

  close(): Promise<void> | undefined {
    return this.records?.close();
  }
}
