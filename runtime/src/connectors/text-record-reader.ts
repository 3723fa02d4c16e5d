import { type FileHandle, open } from "node:fs/promises";
import { hasOpenQuote } from "./csv.js";
import { FileIoError, FileNotFoundError } from "./errors.js";

/** One record of a text file: its text without the line break, and the 1-based line it starts on. */
export interface TextRecord {
  readonly text: string;
  readonly line: number;
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
}

/**
 * Reads a text file as records separated by line breaks (LF or CRLF), in chunks, without
 * blocking the thread: `next()` hands out what is already read, synchronously; when it returns
 * undefined and `ended` is false, `fill()` reads the next chunk. UTF-8, a leading byte order
 * mark dropped, a character split between chunks decoded whole. One reader, one caller at a time.
 */
export class TextRecordReader {
  readonly path: string;
  private readonly chunkSize: number;
  private readonly quoteAware: boolean;
  private handle: FileHandle | undefined;
  private readonly decoder = new TextDecoder("utf-8", { fatal: false });
  private buffer: Buffer | undefined;
  private text = "";
  private position = 0;
  /** Lines handed out so far. */
  private lines = 0;
  private endOfFile = false;
  private closed = false;

  constructor(options: TextRecordReaderOptions) {
    this.path = options.path;
    this.chunkSize = options.chunkSize ?? 64 * 1024;
    this.quoteAware = options.quoteAware ?? false;
  }

  /** True once the file is read to its end and every record was handed out. */
  get ended(): boolean {
    return this.endOfFile && this.position >= this.text.length;
  }

  /** Opens the file; rejects with FileNotFoundError or FileIoError naming the path. */
  async open(): Promise<void> {
    let handle: FileHandle;
    try {
      handle = await open(this.path, "r");
    } catch (error) {
      if ((error as { code?: unknown }).code === "ENOENT") throw new FileNotFoundError(this.path, { cause: error });
      throw new FileIoError(this.path, "open", { cause: error });
    }
    // Closed while opening (the job was cancelled): do not leak the descriptor.
    if (this.closed) await handle.close();
    else this.handle = handle;
  }

  /** The next complete record already read, or undefined when more must be read first (or the file ended). */
  next(): TextRecord | undefined {
    const { text } = this;
    if (this.position >= text.length) return undefined;
    let end = text.indexOf("\n", this.position);
    let spanned = 1;
    if (this.quoteAware) {
      // A record ends at a line break outside quotes: keep extending while a quote is open.
      let open = hasOpenQuote(text, this.position, end < 0 ? text.length : end);
      while (open && end >= 0) {
        const following = text.indexOf("\n", end + 1);
        open = hasOpenQuote(text, end + 1, following < 0 ? text.length : following, open);
        end = following;
        spanned++;
      }
      // An open quote at the end of what was read may close in the next chunk.
      if (open && !this.endOfFile) return undefined;
    }
    if (end < 0 && !this.endOfFile) return undefined;
    const stop = end < 0 ? text.length : end;
    const record = text.slice(
      this.position,
      stop > this.position && text.charCodeAt(stop - 1) === 13 ? stop - 1 : stop,
    );
    const line = this.lines + 1;
    this.lines += spanned;
    this.position = end < 0 ? text.length : end + 1;
    return { text: record, line };
  }

  /** Reads the next chunk; rejects with FileIoError. At the end of the file, `ended` turns true once drained. */
  async fill(): Promise<void> {
    if (this.closed) return;
    if (this.handle === undefined) await this.open();
    const handle = this.handle;
    if (handle === undefined) return;
    this.buffer ??= Buffer.allocUnsafe(this.chunkSize);
    let bytesRead: number;
    try {
      ({ bytesRead } = await handle.read(this.buffer, 0, this.buffer.length, null));
    } catch (error) {
      throw new FileIoError(this.path, "read", { cause: error });
    }
    // Drop what was handed out, so the text kept is at most one partial record plus a chunk.
    const rest = this.text.slice(this.position);
    if (bytesRead === 0) {
      this.endOfFile = true;
      this.text = rest + this.decoder.decode();
    } else {
      this.text = rest + this.decoder.decode(this.buffer.subarray(0, bytesRead), { stream: true });
    }
    this.position = 0;
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
