import { type FileHandle, open } from "node:fs/promises";
import { FileIoError, FileNotFoundError } from "./errors.js";

const LF = 10;
const CR = 13;
const QUOTE = 34;
const BOM = [0xef, 0xbb, 0xbf] as const;
const EMPTY = Buffer.alloc(0);

/** One record of a text file: its text without the line break, and where it starts. */
export interface TextRecord {
  readonly text: string;
  /** 1-based line the record starts on. */
  readonly line: number;
  /** Byte offset in the file of the record's first byte. */
  readonly offset: number;
}

/** Where the next record starts: a byte offset in the file and its 1-based line. */
export interface TextPosition {
  readonly offset: number;
  readonly line: number;
}

/** A file's size in bytes and modification time (ms since the epoch), as it was opened. */
export interface FileIdentity {
  readonly size: number;
  readonly mtimeMs: number;
}

export interface TextRecordReaderOptions {
  readonly path: string;
  /** Bytes per read. Default 64 KiB. */
  readonly chunkSize?: number;
  /**
   * When true, a line break inside a quoted CSV field does not end the record: a record ends at
   * the first line break with an even number of quotes before it. Default false.
   */
  readonly quoteAware?: boolean;
  /**
   * Where to start reading: the offset must be where a record starts (a position this reader
   * reported). Default the start of the file, line 1. A byte order mark is dropped only at offset 0.
   */
  readonly start?: TextPosition;
}

/**
 * Reads a text file as records separated by line breaks (LF or CRLF), in chunks, without
 * blocking the thread: `next()` hands out what is already read, synchronously; when it returns
 * undefined and `ended` is false, `fill()` reads the next chunk. UTF-8, a leading byte order
 * mark dropped. One reader, one caller at a time.
 *
 * Records are found in the bytes, not in decoded text, so every record's byte offset is known
 * exactly and `position` can be resumed from with `start`: line breaks and quotes are ASCII,
 * and in UTF-8 no byte of a multi-byte character is below 0x80, so a record's bytes always hold
 * whole characters however the chunks fell.
 */
export class TextRecordReader {
  readonly path: string;
  private readonly chunkSize: number;
  private readonly quoteAware: boolean;
  private handle: FileHandle | undefined;
  /** Bytes read and not handed out yet start at `at`. */
  private buffer: Buffer = EMPTY;
  private at = 0;
  /** File offset of `buffer[0]`. */
  private bufferOffset: number;
  /** File offset of the next read. */
  private readOffset: number;
  /** Line of the next record to hand out. */
  private nextLine: number;
  /**
   * How far the pending record was scanned without finding its end, with the quote state and
   * the quoted line breaks met there: a record longer than a chunk is not scanned again per fill.
   */
  private scanned = 0;
  private quoted = false;
  private quotedBreaks = 0;
  private bomPending: boolean;
  private endOfFile = false;
  private closed = false;
  /** Size and modification time of the file when it was opened; undefined before. */
  identity: FileIdentity | undefined;

  constructor(options: TextRecordReaderOptions) {
    this.path = options.path;
    this.chunkSize = options.chunkSize ?? 64 * 1024;
    if (!(this.chunkSize >= 1)) throw new RangeError(`chunkSize must be ≥ 1, got ${this.chunkSize}`);
    this.quoteAware = options.quoteAware ?? false;
    const start = options.start ?? { offset: 0, line: 1 };
    this.bufferOffset = start.offset;
    this.readOffset = start.offset;
    this.nextLine = start.line;
    this.bomPending = start.offset === 0;
  }

  /** True once the file is read to its end and every record was handed out. */
  get ended(): boolean {
    return this.endOfFile && this.at >= this.buffer.length;
  }

  /**
   * Where the next record not handed out yet starts: after the last record `next()` returned,
   * whatever more is buffered. Resuming there with `start` hands out exactly the records after it.
   */
  get position(): TextPosition {
    return { offset: this.bufferOffset + this.at, line: this.nextLine };
  }

  /** Opens the file and reads its identity; rejects with FileNotFoundError or FileIoError naming the path. */
  async open(): Promise<void> {
    let handle: FileHandle;
    try {
      handle = await open(this.path, "r");
    } catch (error) {
      if ((error as { code?: unknown }).code === "ENOENT") throw new FileNotFoundError(this.path, { cause: error });
      throw new FileIoError(this.path, "open", { cause: error });
    }
    let identity: FileIdentity;
    try {
      const stats = await handle.stat();
      identity = { size: stats.size, mtimeMs: stats.mtimeMs };
    } catch (error) {
      await handle.close().catch(() => {});
      throw new FileIoError(this.path, "open", { cause: error });
    }
    // Closed while opening (the job was cancelled): do not leak the descriptor.
    if (this.closed) {
      await handle.close();
      return;
    }
    this.handle = handle;
    this.identity = identity;
  }

  /** The next complete record already read, or undefined when more must be read first (or the file ended). */
  next(): TextRecord | undefined {
    const buffer = this.buffer;
    const length = buffer.length;
    if (this.at >= length) return undefined;
    if (this.bomPending && !this.skipBom()) return undefined;
    let end = -1;
    let quoted = this.quoted;
    let breaks = this.quotedBreaks;
    let from = Math.max(this.scanned, this.at);
    if (this.quoteAware) {
      for (; from < length; from++) {
        const byte = buffer[from];
        if (byte === QUOTE) quoted = !quoted;
        else if (byte === LF) {
          if (!quoted) {
            end = from;
            break;
          }
          breaks++;
        }
      }
    } else {
      end = buffer.indexOf(LF, from);
      if (end < 0) from = length;
    }
    if (end < 0) {
      if (!this.endOfFile) {
        this.scanned = from;
        this.quoted = quoted;
        this.quotedBreaks = breaks;
        return undefined;
      }
      // The last record has no line break (or an open quote, which the CSV parser reports).
      end = length;
    }
    const start = this.at;
    const stop = end > start && buffer[end - 1] === CR ? end - 1 : end;
    const record: TextRecord = {
      text: buffer.toString("utf8", start, stop),
      line: this.nextLine,
      offset: this.bufferOffset + start,
    };
    this.nextLine += breaks + 1;
    this.at = end < length ? end + 1 : length;
    this.scanned = this.at;
    this.quoted = false;
    this.quotedBreaks = 0;
    return record;
  }

  /**
   * Drops a byte order mark at the start of the file; false while too few bytes are read to tell.
   * The offsets stay the file's: a position after the mark is 3.
   */
  private skipBom(): boolean {
    const buffer = this.buffer;
    const have = buffer.length - this.at;
    const compare = Math.min(have, BOM.length);
    for (let i = 0; i < compare; i++) {
      if (buffer[this.at + i] !== BOM[i]) {
        this.bomPending = false;
        return true;
      }
    }
    if (have < BOM.length && !this.endOfFile) return false;
    this.bomPending = false;
    if (have >= BOM.length) {
      this.at += BOM.length;
      this.scanned = this.at;
    }
    return this.at < buffer.length;
  }

  /** Reads the next chunk; rejects with FileIoError. At the end of the file, `ended` turns true once drained. */
  async fill(): Promise<void> {
    if (this.closed) return;
    if (this.handle === undefined) await this.open();
    const handle = this.handle;
    if (handle === undefined) return;
    const rest = this.buffer.subarray(this.at);
    // A record longer than a chunk doubles the read, so gathering it costs linear time, not quadratic.
    const chunk = Buffer.allocUnsafe(Math.max(this.chunkSize, rest.length));
    let bytesRead: number;
    try {
      ({ bytesRead } = await handle.read(chunk, 0, chunk.length, this.readOffset));
    } catch (error) {
      throw new FileIoError(this.path, "read", { cause: error });
    }
    this.readOffset += bytesRead;
    // Drop what was handed out, so what is kept is at most one partial record plus a chunk.
    this.bufferOffset += this.at;
    this.scanned -= this.at;
    this.at = 0;
    if (bytesRead === 0) {
      this.endOfFile = true;
      this.buffer = rest;
    } else {
      const read = chunk.subarray(0, bytesRead);
      this.buffer = rest.length === 0 ? read : Buffer.concat([rest, read]);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const handle = this.handle;
    this.handle = undefined;
    if (handle === undefined) return;
    try {
      await handle.close();
    } catch (error) {
      throw new FileIoError(this.path, "close", { cause: error });
    }
  }
}
