import { type FileHandle, mkdir, open } from "node:fs/promises";
import { dirname, extname, resolve } from "node:path";
import type { Sink, SinkWriter, SinkWriterContext } from "@keyflow/functions-sdk";
import { FileIoError, FileRecordUnwritableError } from "./errors.js";

export interface NdjsonFileSinkOptions {
  /**
   * The file to write. With parallelism above 1 each shard writes its own file: a `{shard}`
   * placeholder in the path is replaced by the shard index, otherwise `.{shard}` goes before the
   * extension (`out/maxes.ndjson` -> `out/maxes.0.ndjson`, `out/maxes.1.ndjson`, …). Missing
   * folders are created; an existing file is replaced.
   */
  readonly path: string;
  /** Buffered characters that start a background write before `flush`. Default 1 MiB. */
  readonly bufferSize?: number;
}

/**
 * A sink writing one JSON line per record (NDJSON), in the order its shard receives them.
 * Writes are buffered in memory and go to disk in the background when the buffer fills, and at
 * `flush` (end of input) and `close`, which wait for them; a failed write fails the job at the
 * next record or at flush, with FILE_IO_FAILED naming the file. A record JSON cannot express
 * (undefined, a function, a bigint) fails the job with FILE_RECORD_UNWRITABLE.
 *
 * Not transactional: a job that fails leaves what was written so far.
 *
 * ```ts
 * stream.sinkTo(ndjsonFileSink<Reading>({ path: "out/readings.ndjson" }));
 * ```
 */
export function ndjsonFileSink<T>(options: NdjsonFileSinkOptions): Sink<T> {
  if (options.path.length === 0) throw new RangeError("ndjsonFileSink needs a non-empty path");
  const bufferSize = options.bufferSize ?? 1024 * 1024;
  if (!(bufferSize > 0)) throw new RangeError(`ndjsonFileSink bufferSize must be > 0, got ${bufferSize}`);
  return {
    createWriter(context: SinkWriterContext): SinkWriter<T> {
      return new NdjsonFileWriter<T>(
        resolve(shardFilePath(options.path, context.shardIndex, context.parallelism)),
        bufferSize,
      );
    },
  };
}

/**
 * The file shard `shardIndex` of `parallelism` writes for a sink path: the `{shard}` placeholder
 * replaced, else the path itself at parallelism 1, else `.{shard}` before the extension.
 */
export function shardFilePath(path: string, shardIndex: number, parallelism: number): string {
  if (path.includes("{shard}")) return path.replaceAll("{shard}", String(shardIndex));
  if (parallelism === 1) return path;
  const extension = extname(path);
  return `${path.slice(0, path.length - extension.length)}.${shardIndex}${extension}`;
}

class NdjsonFileWriter<T> implements SinkWriter<T> {
  private lines: string[] = [];
  private buffered = 0;
  /** Background writes, in order; each waits for the one before. */
  private writes: Promise<void> = Promise.resolve();
  private handle: FileHandle | undefined;
  private failure: Error | undefined;
  private closed = false;

  constructor(
    private readonly path: string,
    private readonly bufferSize: number,
  ) {}

  write(value: T): void {
    if (this.failure !== undefined) throw this.failure;
    let line: string | undefined;
    try {
      line = JSON.stringify(value);
    } catch (error) {
      throw new FileRecordUnwritableError(this.path, error instanceof Error ? error.message : String(error), {
        cause: error,
      });
    }
    if (line === undefined) throw new FileRecordUnwritableError(this.path, `JSON has no text for a ${typeof value}`);
    this.lines.push(line);
    this.buffered += line.length + 1;
    if (this.buffered >= this.bufferSize) this.startWrite();
  }

  async flush(): Promise<void> {
    // Even a shard that got no records leaves its (empty) file, so readers find one per shard.
    this.startWrite();
    await this.writes;
    if (this.failure !== undefined) throw this.failure;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.flush();
    } finally {
      const handle = this.handle;
      this.handle = undefined;
      if (handle !== undefined) {
        try {
          await handle.close();
        } catch (error) {
          this.failure ??= new FileIoError(this.path, "close", { cause: error });
        }
      }
    }
    if (this.failure !== undefined) throw this.failure;
  }

  private startWrite(): void {
    const text = this.lines.length === 0 ? "" : `${this.lines.join("\n")}\n`;
    this.lines = [];
    this.buffered = 0;
    this.writes = this.writes.then(async () => {
      if (this.failure !== undefined) return;
      let operation: "open" | "write" = "open";
      try {
        if (this.handle === undefined) {
          await mkdir(dirname(this.path), { recursive: true });
          this.handle = await open(this.path, "w");
        }
        operation = "write";
        if (text.length > 0) await this.handle.writeFile(text);
      } catch (error) {
        this.failure = new FileIoError(this.path, operation, { cause: error });
      }
    });
  }
}
