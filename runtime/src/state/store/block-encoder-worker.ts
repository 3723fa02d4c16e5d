// The block encoder's thread (see BlockEncoder): encodes the columns it is sent (number columns
// on SharedArrayBuffers, read in place), and writes the blocks to the store's LevelDB itself (a
// handle of its own, the folder opened with `multithreading`) or sends them back, their buffers
// transferred (a detach on this thread slows only this thread).
import { parentPort } from "node:worker_threads";
import { Level } from "level";
import type { EncoderReply, EncoderRequest } from "./block-encoder.js";
import type { EncodedColumns } from "./columns-job.js";
import { ColumnsOutOfRange, encodeColumns, encodedBatches } from "./encode-columns.js";
import type { StoreDb } from "./store-context.js";

const port = parentPort;
if (port === null) throw new Error("block-encoder-worker.js runs as a worker thread");

let db: Promise<StoreDb> | undefined;
/** The last written job's output buffer, for the next job's. */
let spare: ArrayBuffer | undefined;

function dbAt(location: string): Promise<StoreDb> {
  db ??= (async () => {
    const opened: StoreDb = new Level<Buffer, Buffer>(location, { keyEncoding: "buffer", valueEncoding: "buffer" });
    await opened.open({ createIfMissing: false, multithreading: true } as Parameters<StoreDb["open"]>[0]);
    return opened;
  })();
  return db;
}

async function write(location: string, encoded: EncodedColumns): Promise<void> {
  const store = await dbAt(location);
  for (const batch of encodedBatches(encoded)) await store.batch(batch);
}

async function encode(request: EncoderRequest & { type: "encode" }): Promise<void> {
  const { seq, writeTo } = request;
  const transfer: ArrayBuffer[] = [];
  let reply: EncoderReply;
  try {
    // The last written job's output buffer (blocks sent back are the caller's to keep).
    const reuse = writeTo !== undefined ? spare : undefined;
    if (reuse !== undefined) spare = undefined;
    const encoded = encodeColumns(reuse === undefined ? request.job : { ...request.job, spare: reuse });
    if (encoded instanceof ColumnsOutOfRange) {
      reply = { seq, outOfRange: encoded.keyGroup };
    } else if (writeTo !== undefined) {
      await write(writeTo, encoded);
      spare = encoded.data.buffer as ArrayBuffer;
      const written = { data: new Uint8Array(0), ops: new Int32Array(0), groups: encoded.groups, written: true };
      reply = { seq, encoded: written };
    } else {
      reply = { seq, encoded };
      transfer.push(encoded.data.buffer as ArrayBuffer, encoded.ops.buffer as ArrayBuffer);
    }
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    reply = { seq, error: message };
  }
  port?.postMessage(reply, transfer);
}

port.on("message", (request: EncoderRequest) => {
  if (request.type === "encode") {
    void encode(request);
    return;
  }
  void (async () => {
    try {
      await (await db)?.close();
    } finally {
      port.close();
    }
  })();
});
