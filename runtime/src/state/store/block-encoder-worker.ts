// The block encoder's thread (see BlockEncoder): encodes the columns it is sent and sends the
// blocks back, their buffers transferred.
import { parentPort } from "node:worker_threads";
import type { EncoderReply, EncoderRequest } from "./block-encoder.js";
import { ColumnsOutOfRange, encodeColumns } from "./encode-columns.js";

const port = parentPort;
if (port === null) throw new Error("block-encoder-worker.js runs as a worker thread");

port.on("message", (request: EncoderRequest) => {
  // The columns' buffers go back to be filled again at the next mark.
  const returned = new Set<ArrayBuffer>();
  for (const { keys, values } of request.job.columns) {
    for (const column of [keys, values]) if (column instanceof Float64Array) returned.add(column.buffer as ArrayBuffer);
  }
  let reply: EncoderReply;
  try {
    const encoded = encodeColumns(request.job);
    reply =
      encoded instanceof ColumnsOutOfRange
        ? { seq: request.seq, outOfRange: encoded.keyGroup, returned: [...returned] }
        : { seq: request.seq, encoded, returned: [...returned] };
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    reply = { seq: request.seq, error: message, returned: [...returned] };
  }
  const transfer = "encoded" in reply ? [reply.encoded.data.buffer, reply.encoded.ops.buffer] : [];
  port.postMessage(reply, [...(transfer as ArrayBuffer[]), ...returned]);
});
