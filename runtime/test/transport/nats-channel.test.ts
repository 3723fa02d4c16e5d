import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { connect } from "@nats-io/transport-node";
import type { InputGate } from "../../src/channel/channel.js";
import type { StreamElement } from "../../src/element/stream-element.js";
import { NatsChannelReader, NatsChannelWriter } from "../../src/transport/nats-channel.js";
import { connectNats } from "../../src/transport/nats-connection.js";
import { encodeTotal, type LinkReader, type NatsLink } from "../../src/transport/nats-link.js";
import { type NatsServerHandle, startNatsServer } from "../helpers/nats-server.js";

const ASK_MS = 20;

/** A gate that records what arrives and lets the test decide when a batch is consumed. */
class RecordingGate implements InputGate {
  readonly elements: StreamElement[] = [];
  /** Batches delivered and not yet released, at most. */
  maxHeld = 0;
  held = 0;
  reader: NatsChannelReader | undefined;
  private endWaiters: Array<() => void> = [];

  constructor(
    private readonly link: NatsLink,
    /** Releases each batch at once when true; otherwise the test calls `consumeOne`. */
    private readonly eager: boolean,
  ) {}

  deliver(_inputChannel: number, element: StreamElement): void {
    this.elements.push(element);
    if (element.kind === "records") {
      this.held++;
      this.maxHeld = Math.max(this.maxHeld, this.held);
      const reader = this.reader as NatsChannelReader;
      assert.ok(reader.receivedBatches <= reader.grantedTotal, "received more batches than granted");
      if (this.eager) this.consumeOne();
    }
    if (element.kind === "end") for (const waiter of this.endWaiters.splice(0)) waiter();
  }

  /** Consumes one held batch, returning its credit as a scheduler tick would. */
  consumeOne(): void {
    if (this.held === 0) return;
    this.held--;
    this.reader?.release();
    setImmediate(() => this.link.flushCredits());
  }

  ended(): Promise<void> {
    if (this.elements.at(-1)?.kind === "end") return Promise.resolve();
    return new Promise((resolve) => this.endWaiters.push(resolve));
  }
}

function batch(from: number, size: number): StreamElement {
  const values = Array.from({ length: size }, (_, i) => ({ n: from + i, key: `k${(from + i) % 7}` }));
  return { kind: "records", values, timestamps: values.map((v) => v.n * 10) };
}

/** Everything a writer sends: batches with watermarks and barriers between them, then end of input. */
function script(batches: number, size: number): StreamElement[] {
  const elements: StreamElement[] = [{ kind: "watermark", timestamp: 0 }];
  for (let b = 0; b < batches; b++) {
    elements.push(batch(b * size, size));
    if (b % 3 === 0) elements.push({ kind: "watermark", timestamp: b * size * 10 });
    if (b % 5 === 4) elements.push({ kind: "barrier", checkpointId: b, timestamp: b });
  }
  elements.push({ kind: "end" });
  return elements;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
    }),
  ]);
}

describe("NatsChannel", () => {
  let server: NatsServerHandle;
  let jobCounter = 0;
  const links: NatsLink[] = [];
  let linkErrors: Error[] = [];

  /** Two links of a fresh job id: the writer's node and the reader's node. */
  async function twoLinks(): Promise<[NatsLink, NatsLink]> {
    const jobId = `channel-test-${++jobCounter}`;
    const a = await connectNats({ url: server.url, jobId });
    const b = await connectNats({ url: server.url, jobId });
    links.push(a, b);
    for (const link of [a, b]) link.onError((error) => linkErrors.push(error));
    return [a, b];
  }

  before(async () => {
    server = await startNatsServer({ jetstream: false });
  });
  afterEach(() => {
    const errors = linkErrors;
    linkErrors = [];
    assert.deepEqual(
      errors.map((e) => e.message),
      [],
    );
  });
  after(async () => {
    await Promise.all(links.map((link) => link.close()));
    await server?.stop();
  });

  it("delivers records, watermarks, barriers and end-of-input in the order sent", async () => {
    const [writerLink, readerLink] = await twoLinks();
    const gate = new RecordingGate(readerLink, true);
    gate.reader = new NatsChannelReader({
      link: readerLink,
      channelId: 3,
      edge: 1,
      targetShard: 0,
      gate,
      inputChannel: 0,
      credit: 4,
    });
    const writer = new NatsChannelWriter({
      link: writerLink,
      channelId: 3,
      edge: 1,
      targetShard: 0,
      askIntervalMs: ASK_MS,
    });
    const sent = script(40, 25);
    for (const element of sent) writer.send(element);
    await withTimeout(gate.ended(), 10_000, "end of input");
    assert.deepEqual(gate.elements, sent);
    assert.ok(writer.done);
    await withTimeout(writerLink.writersDone(), 1_000, "writers done");
    gate.reader.close();
  });

  it("waits for the reader's first grant, even when the writer starts first", async () => {
    const [writerLink, readerLink] = await twoLinks();
    const writer = new NatsChannelWriter({
      link: writerLink,
      channelId: 0,
      edge: 0,
      targetShard: 2,
      askIntervalMs: ASK_MS,
    });
    const sent = script(6, 10);
    for (const element of sent) writer.send(element);
    assert.equal(writer.isWritable(), false, "no credit before the reader granted any");
    // Anything published now would be lost: nobody subscribes yet.
    await new Promise((resolve) => setTimeout(resolve, 3 * ASK_MS));
    const gate = new RecordingGate(readerLink, true);
    gate.reader = new NatsChannelReader({
      link: readerLink,
      channelId: 0,
      edge: 0,
      targetShard: 2,
      gate,
      inputChannel: 0,
      credit: 2,
    });
    await withTimeout(gate.ended(), 10_000, "end of input");
    assert.deepEqual(gate.elements, sent);
  });

  it("never gives a slow reader more batches than it granted", async () => {
    const [writerLink, readerLink] = await twoLinks();
    const credit = 3;
    const gate = new RecordingGate(readerLink, false);
    gate.reader = new NatsChannelReader({
      link: readerLink,
      channelId: 7,
      edge: 2,
      targetShard: 1,
      gate,
      inputChannel: 0,
      credit,
    });
    const writer = new NatsChannelWriter({
      link: writerLink,
      channelId: 7,
      edge: 2,
      targetShard: 1,
      askIntervalMs: ASK_MS,
    });
    const sent = script(30, 10);
    let blockedSeen = 0;
    for (const element of sent) {
      if (!writer.isWritable()) blockedSeen++;
      writer.send(element);
    }
    // The reader consumes one batch every 5 ms; the writer must wait for each credit.
    const consumer = setInterval(() => gate.consumeOne(), 5);
    try {
      await withTimeout(gate.ended(), 10_000, "end of input");
    } finally {
      clearInterval(consumer);
    }
    assert.deepEqual(gate.elements, sent);
    assert.ok(blockedSeen > 0, "the writer ran out of credit");
    assert.ok(gate.maxHeld <= credit, `held ${gate.maxHeld} batches with ${credit} granted`);
    assert.equal(gate.maxHeld, credit, "the pipeline filled up to the credit");
  });

  it("heals lost grants: the writer asks, the reader answers with its total", async () => {
    const [writerLink, readerLink] = await twoLinks();
    // Every grant a release would publish is lost; only answers to asks get through.
    const lossy = readerLink as NatsLink & { grantLater(reader: LinkReader): void };
    lossy.grantLater = () => {};
    const gate = new RecordingGate(readerLink, true);
    gate.reader = new NatsChannelReader({
      link: readerLink,
      channelId: 1,
      edge: 0,
      targetShard: 0,
      gate,
      inputChannel: 0,
      credit: 2,
    });
    const writer = new NatsChannelWriter({
      link: writerLink,
      channelId: 1,
      edge: 0,
      targetShard: 0,
      askIntervalMs: ASK_MS,
    });
    const sent = script(12, 5);
    for (const element of sent) writer.send(element);
    await withTimeout(gate.ended(), 10_000, "end of input");
    assert.deepEqual(gate.elements, sent);
  });

  it("ignores stale and duplicated grants", async () => {
    const [writerLink, readerLink] = await twoLinks();
    const gate = new RecordingGate(readerLink, false);
    gate.reader = new NatsChannelReader({
      link: readerLink,
      channelId: 5,
      edge: 0,
      targetShard: 0,
      gate,
      inputChannel: 0,
      credit: 2,
    });
    const writer = new NatsChannelWriter({
      link: writerLink,
      channelId: 5,
      edge: 0,
      targetShard: 0,
      askIntervalMs: ASK_MS,
    });
    for (const element of script(10, 5)) writer.send(element);
    await withTimeout(
      new Promise<void>((resolve) => {
        const poll = setInterval(() => {
          if (gate.held === 2) {
            clearInterval(poll);
            resolve();
          }
        }, 5);
      }),
      5_000,
      "two batches held",
    );
    // A third party repeats old totals (as a slow or duplicated grant would arrive).
    const meddler = await connect({ servers: server.url });
    for (const total of [0, 1, 2, 2, 1]) meddler.publish(writerLink.subjects.credit(5), encodeTotal(total));
    await meddler.flush();
    await meddler.close();
    await new Promise((resolve) => setTimeout(resolve, 5 * ASK_MS));
    assert.equal(gate.held, 2, "no batch beyond the grant arrived");
    assert.equal(writer.transmittedBatches, 2);
    const consumer = setInterval(() => gate.consumeOne(), 1);
    try {
      await withTimeout(gate.ended(), 10_000, "end of input");
    } finally {
      clearInterval(consumer);
    }
    assert.ok(gate.maxHeld <= 2);
  });

  it("fails the reader's link when a writer sends beyond its grant", async () => {
    const [writerLink, readerLink] = await twoLinks();
    const gate = new RecordingGate(readerLink, false);
    gate.reader = new NatsChannelReader({
      link: readerLink,
      channelId: 9,
      edge: 4,
      targetShard: 0,
      gate,
      inputChannel: 0,
      credit: 2,
    });
    const failed = new Promise<Error>((resolve) => readerLink.onError(resolve));
    // The server has the reader's subscription once it answered a flush (a real writer waits for the grant).
    await readerLink.flush();
    // A rogue writer that ignores credit.
    for (let b = 0; b < 3; b++) writerLink.publishElement(writerLink.subjects.data(4, 0), 9, batch(b, 2));
    const error = await withTimeout(failed, 5_000, "a credit violation");
    assert.equal((error as { code?: string }).code, "CHANNEL_CREDIT_VIOLATED");
    assert.match(error.message, /channel 9: received 3 record batches but granted only 2/);
    assert.equal(gate.held, 2, "the batch beyond the grant was not delivered");
    linkErrors = linkErrors.filter((e) => e !== error);
  });
});
