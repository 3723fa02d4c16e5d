// The block encoder's thread (see BlockEncoder): encodes the columns it is sent and sends the
// blocks back, their buffers transferred.
import { parentPort } from "node:worker_threads";
import type { EncoderReply, EncoderRequest } from "./block-encoder.js";
import { ColumnsOutOfRange, encodeColumns } from "./encode-columns.js";

const port = parentPort;
if (port === null) throw new Error("block-encoder-worker.js runs as a worker thread");

port.on("message", (request: EncoderRequest) => {
  let reply: EncoderReply;
  try {
    const encoded = encodeColumns(request.job);
    reply =
      encoded instanceof ColumnsOutOfRange
        ? { seq: request.seq, outOfRange: encoded.keyGroup }
        : { seq: request.seq, encoded };
  } catch (error) {
    reply = { seq: request.seq, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  const transfer = "encoded" in reply ? [reply.encoded.data.buffer, reply.encoded.ops.buffer] : [];
  port.postMessage(reply, transfer as ArrayBuffer[]);
});
