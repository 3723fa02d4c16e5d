import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { LocalChannel } from "../../src/channel/local-channel.js";
import type { StreamElement } from "../../src/element/stream-element.js";
import { Mailbox } from "../../src/mailbox/mailbox.js";
import { arbitraryElements } from "./elements.js";

/** A consumer as a shard is one: a mailbox fed by the channel, taken one element at a time. */
function consumer() {
  const mailbox = new Mailbox();
  const gate = { deliver: (channel: number, element: StreamElement) => mailbox.put(channel, element) };
  return { mailbox, gate };
}

const batch = (...values: number[]): StreamElement => ({ kind: "records", values, timestamps: undefined });
const watermark = (timestamp: number): StreamElement => ({ kind: "watermark", timestamp });

describe("LocalChannel", () => {
  it("delivers elements in the order sent, and the consumer never holds more batches than its credit", () => {
    fc.assert(
      fc.property(
        arbitraryElements(),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.boolean(), { maxLength: 120 }),
        (elements, credit, steps) => {
          const { mailbox, gate } = consumer();
          const channel = new LocalChannel(3, gate, 0, credit);
          const received: StreamElement[] = [];
          let next = 0;
          const take = () => {
            const element = mailbox.take();
            received.push(element);
            if (element.kind === "records") channel.release();
          };
          const countHeld = () => {
            // A batch is held from its delivery until the consumer takes and releases it.
            const held = snapshot(mailbox).filter((element) => element.kind === "records").length;
            assert.ok(held <= credit, `the consumer holds ${held} batches with a credit of ${credit}`);
          };
          for (const send of steps) {
            if (send && next < elements.length) channel.send(elements[next++] as StreamElement);
            else if (!mailbox.isEmpty()) take();
            countHeld();
          }
          while (next < elements.length) {
            channel.send(elements[next++] as StreamElement);
            countHeld();
          }
          while (!mailbox.isEmpty()) {
            take();
            countHeld();
          }
          assert.equal(received.length, elements.length);
          received.forEach((element, i) => {
            assert.equal(element, elements[i], `element ${i} out of order`);
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it("holds a watermark and end-of-input behind a record batch that waits for credit", () => {
    const { mailbox, gate } = consumer();
    const channel = new LocalChannel(0, gate, 0, 1);
    const first = batch(1);
    const second = batch(2);
    channel.send(first);
    channel.send(second);
    channel.send(watermark(10));
    channel.send({ kind: "end" });
    assert.deepEqual(snapshot(mailbox), [first], "only the credited batch arrived");
    mailbox.take();
    channel.release();
    assert.deepEqual(snapshot(mailbox), [second, watermark(10), { kind: "end" }]);
  });

  it("lets watermarks and barriers through without credit when nothing waits before them", () => {
    const { mailbox, gate } = consumer();
    const channel = new LocalChannel(0, gate, 0, 1);
    channel.send(batch(1));
    assert.equal(channel.isWritable(), false);
    channel.send({ kind: "barrier", checkpointId: 7, timestamp: 0 });
    channel.send(watermark(3));
    assert.deepEqual(
      snapshot(mailbox).map((e) => e.kind),
      ["records", "barrier", "watermark"],
    );
  });

  it("is writable while credit remains, and calls a blocked writer's listener once when credit returns", () => {
    const { mailbox, gate } = consumer();
    const channel = new LocalChannel(0, gate, 0, 2);
    assert.equal(channel.isWritable(), true);
    channel.send(batch(1));
    assert.equal(channel.isWritable(), true);
    channel.send(batch(2));
    assert.equal(channel.isWritable(), false);
    let woken = 0;
    channel.onWritable(() => woken++);
    assert.equal(woken, 0);
    mailbox.take();
    channel.release();
    assert.equal(woken, 1);
    assert.equal(channel.isWritable(), true);
    mailbox.take();
    channel.release();
    assert.equal(woken, 1, "a listener is called once");
  });

  it("stays blocked while a backlog waits, even after some credit returns", () => {
    const { mailbox, gate } = consumer();
    const channel = new LocalChannel(0, gate, 0, 1);
    channel.send(batch(1));
    channel.send(batch(2));
    channel.send(batch(3));
    let woken = 0;
    channel.onWritable(() => woken++);
    mailbox.take();
    channel.release(); // batch 2 goes out on this credit; batch 3 still waits
    assert.equal(channel.isWritable(), false);
    assert.equal(woken, 0);
    mailbox.take();
    channel.release(); // batch 3 goes out
    assert.equal(channel.isWritable(), false, "batch 3 took the last credit");
    mailbox.take();
    channel.release();
    assert.equal(woken, 1);
    assert.equal(mailbox.isEmpty(), true);
  });

  it("calls a listener at once when the writer is already writable", () => {
    const { gate } = consumer();
    const channel = new LocalChannel(0, gate, 0, 1);
    let woken = 0;
    channel.onWritable(() => woken++);
    assert.equal(woken, 1);
  });

  it("delivers to the consumer's input channel index", () => {
    const { mailbox, gate } = consumer();
    const channel = new LocalChannel(12, gate, 5, 1);
    channel.send(watermark(1));
    assert.equal(mailbox.peekChannel(), 5);
    assert.equal(channel.channelId, 12);
  });
});

/** The elements in a mailbox, without taking them. */
function snapshot(mailbox: Mailbox): StreamElement[] {
  const taken: Array<[number, StreamElement]> = [];
  while (!mailbox.isEmpty()) {
    const channel = mailbox.peekChannel();
    taken.push([channel, mailbox.take()]);
  }
  for (const [channel, element] of taken) mailbox.put(channel, element);
  return taken.map(([, element]) => element);
}
