import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MessageChannel, Worker } from "node:worker_threads";
import fc from "fast-check";
import type { StreamElement } from "../../src/element/stream-element.js";
import type { PeerSetup, ReaderReport, WriterReport } from "../fixtures/port-channel-peer.js";
import { arbitraryElements } from "./elements.js";

const PEER = new URL("../fixtures/port-channel-peer.js", import.meta.url);

/** Runs a writer thread and a reader thread joined by one real MessageChannel, and returns their reports. */
async function runPeers(
  channels: StreamElement[][],
  credit: number,
  paced: boolean,
): Promise<{ writer: WriterReport; reader: ReaderReport }> {
  const { port1, port2 } = new MessageChannel();
  const spec = channels.map((elements, c) => ({ id: 100 + c * 7, elements }));
  const start = (role: PeerSetup["role"], port: typeof port1) => {
    const setup: PeerSetup = { role, port, credit, paced, channels: spec };
    return new Worker(PEER, { workerData: setup, transferList: [port] });
  };
  const writer = start("writer", port1);
  const reader = start("reader", port2);
  try {
    const report = <R>(worker: Worker) =>
      new Promise<R>((resolve, reject) => {
        worker.once("message", resolve);
        worker.once("error", reject);
        worker.once("exit", (code) => reject(new Error(`peer exited with code ${code} before reporting`)));
      });
    const [w, r] = await Promise.all([report<WriterReport>(writer), report<ReaderReport>(reader)]);
    return { writer: w, reader: r };
  } finally {
    await Promise.all([writer.terminate(), reader.terminate()]);
  }
}

const batchesOf = (elements: StreamElement[]) => elements.filter((e) => e.kind === "records").length;

describe("PortChannelWriter and PortChannelReader between two worker threads", () => {
  it("deliver every channel's elements in order over one port, never more batches held than granted", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(arbitraryElements(30), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        async (channels, credit, paced) => {
          const { reader } = await runPeers(channels, credit, paced);
          channels.forEach((sent, c) => {
            assert.deepEqual(reader.received[c], sent, `channel ${c} delivered out of order or changed`);
            assert.ok(
              (reader.maxHeld[c] as number) <= credit,
              `channel ${c}: the reader held ${reader.maxHeld[c]} batches with a credit of ${credit}`,
            );
          });
        },
      ),
      { numRuns: 6 },
    );
  });

  it("blocks a writer that used its credit and makes it writable again when the reader returns credit", async () => {
    const batches = Array.from(
      { length: 20 },
      (_, i): StreamElement => ({
        kind: "records",
        values: [{ seq: i, payload: "x".repeat(100) }],
        timestamps: undefined,
      }),
    );
    const elements: StreamElement[] = [...batches, { kind: "watermark", timestamp: 5 }, { kind: "end" }];
    const credit = 2;
    const { writer, reader } = await runPeers([elements], credit, true);
    assert.deepEqual(reader.received[0], elements);
    assert.ok((writer.blocked[0] as number) > 0, "a writer with 2 credits sending 20 batches must block");
    assert.equal(writer.woken[0], writer.blocked[0], "every block ended when credit came back");
    assert.ok((reader.maxHeld[0] as number) <= credit);
  });

  it("keeps a writer's backlog in order when it sends without waiting for credit", async () => {
    const elements: StreamElement[] = [];
    for (let i = 0; i < 30; i++) {
      elements.push({ kind: "records", values: [i], timestamps: [i * 10] });
      if (i % 5 === 4) elements.push({ kind: "barrier", checkpointId: i, timestamp: i });
    }
    elements.push({ kind: "end" });
    const { reader } = await runPeers([elements, elements], 1, false);
    assert.deepEqual(reader.received, [elements, elements]);
    assert.deepEqual(reader.maxHeld, [1, 1]);
    assert.equal(batchesOf(reader.received[0] as StreamElement[]), 30);
  });
});
