import { Worker } from "node:worker_threads";
import { giveBackBuffer } from "../column-buffers.js";
import type { ColumnsEncoder, ColumnsJob, EncodedColumns } from "./columns-job.js";
import { columnBuffers } from "./encode-columns.js";

/** @internal A job for the encoder's thread, or the word to close its LevelDB handle and end. */
export type EncoderRequest =
  | {
      readonly type: "encode";
      readonly seq: number;
      readonly job: ColumnsJob;
      /** The store's LevelDB folder (opened with `multithreading`): the thread writes the blocks there itself. */
      readonly writeTo?: string;
    }
  | { readonly type: "close" };

/** @internal What the encoder's thread answers. */
export type EncoderReply =
  | { readonly seq: number; readonly encoded: EncodedColumns }
  | { readonly seq: number; readonly outOfRange: number }
  | { readonly seq: number; readonly error: string };

const ENTRY = new URL("./block-encoder-worker.js", import.meta.url);
/** How long `close` waits for the thread to close its LevelDB handle before terminating it. */
const CLOSE_TIMEOUT_MS = 5_000;

/**
 * The asynchronous part of a snapshot, on a thread of its own: turns a state's columns, copied at
 * a snapshot's mark, into encoded blocks (key groups hashed, blocks packed and framed) and writes
 * them to LevelDB in a few batches. That work was most of what a checkpoint of a large state cost
 * the shard's thread (Flink runs it on its asynchronous snapshot threads too).
 *
 * One thread per store, started on first use, referenced only while a job is in it, so it never
 * keeps a process alive. Number columns are Float64Arrays on SharedArrayBuffers (column-buffers.ts):
 * the thread reads them in place, and they go back to the pool when it answers. Nothing is
 * transferred from the caller's thread, a shard's: a detached buffer slows every typed array
 * access of that thread for good (see column-buffers.ts). Other columns are cloned. If the thread
 * fails, the jobs in it fail (their checkpoints abort) and the next job starts a new one.
 */
export class BlockEncoder implements ColumnsEncoder {
  /**
   * `writeTo`: the store's LevelDB folder, opened by the store with `multithreading`; the thread
   * then writes the blocks itself (EncodedColumns.written) and the store's thread only learns
   * their counts. Without it the blocks come back for the caller to write.
   */
  constructor(private readonly options: { readonly writeTo?: string } = {}) {}

  private worker: Worker | undefined;
  private nextSeq = 0;
  private readonly waiting = new Map<
    number,
    { resolve: (reply: EncoderReply) => void; reject: (error: Error) => void }
  >();
  private closed = false;

  /** The blocks of `job`; a key outside the job's key groups gives `{ outOfRange }`. */
  encode(job: ColumnsJob): Promise<EncodedColumns | { outOfRange: number }> {
    if (this.closed) return Promise.reject(new Error("the block encoder is closed"));
    const worker = this.start();
    const seq = this.nextSeq++;
    const writeTo = this.options.writeTo;
    const request: EncoderRequest = { type: "encode", seq, job, ...(writeTo === undefined ? {} : { writeTo }) };
    // The columns are the snapshot's own copies, shared with the thread: back to the pool once it answered.
    const shared = columnBuffers(job.columns);
    return new Promise<EncoderReply>((resolve, reject) => {
      this.waiting.set(seq, { resolve, reject });
      if (this.waiting.size === 1) worker.ref();
      worker.postMessage(request);
    }).then((reply) => {
      for (const buffer of shared) giveBackBuffer(buffer);
      if ("error" in reply) throw new Error(`the block encoder failed: ${reply.error}`);
      return "encoded" in reply ? reply.encoded : { outOfRange: reply.outOfRange };
    });
  }

  /**
   * Ends the thread once it closed its LevelDB handle (the store waits for its writes first, and
   * closes its own handle after); jobs still in it fail.
   */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    if (worker !== undefined) {
      const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
      worker.ref();
      worker.postMessage({ type: "close" } satisfies EncoderRequest);
      const timer = setTimeout(() => void worker.terminate(), CLOSE_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
    this.failAll(new Error("the block encoder is closed"));
  }

  private start(): Worker {
    if (this.worker !== undefined) return this.worker;
    const worker = new Worker(ENTRY, {
      // As the worker pool does: a `node --input-type=module -e` parent's flag stops a file worker.
      execArgv: process.execArgv.filter((arg) => !arg.startsWith("--input-type")),
    });
    worker.unref();
    worker.on("message", (reply: EncoderReply) => {
      const waiting = this.waiting.get(reply.seq);
      if (waiting === undefined) return;
      this.waiting.delete(reply.seq);
      if (this.waiting.size === 0) worker.unref();
      waiting.resolve(reply);
    });
    const lost = (error: Error) => {
      if (this.worker === worker) this.worker = undefined;
      this.failAll(error);
    };
    worker.on("error", (error) => lost(error));
    worker.on("exit", (code) => lost(new Error(`the block encoder's thread exited (code ${code})`)));
    this.worker = worker;
    return worker;
  }

  private failAll(error: Error): void {
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    for (const w of waiting) w.reject(error);
  }
}
