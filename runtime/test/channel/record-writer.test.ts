import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { LocalChannel } from "../../src/channel/local-channel.js";
import { RecordWriter } from "../../src/channel/record-writer.js";
import type { StreamElement } from "../../src/element/stream-element.js";
import { Mailbox } from "../../src/mailbox/mailbox.js";
import { RoundRobinSelector } from "../../src/partition/partitioners.js";

/** `n` local channels, each into its own mailbox, with plenty of credit. */
function channels(n: number, credit = 1000) {
  const mailboxes = Array.from({ length: n }, () => new Mailbox());
  const writers = mailboxes.map(
    (mailbox, i) => new LocalChannel(i, { deliver: (c, e) => mailbox.put(c, e) }, 0, credit),
  );
  const drain = (i: number) => {
    const out: StreamElement[] = [];
    const mailbox = mailboxes[i] as Mailbox;
    while (!mailbox.isEmpty()) out.push(mailbox.take());
    return out;
  };
  return { writers, drain };
}

describe("RecordWriter", () => {
  it("gathers records into batches of the batch size and sends a partial batch before a watermark", () => {
    const { writers, drain } = channels(1);
    const writer = new RecordWriter(writers, undefined, 3);
    for (let i = 0; i < 7; i++) writer.push(i, Number.NaN);
    writer.watermark(100);
    writer.push(7, Number.NaN);
    writer.broadcastElement({ kind: "end" });
    assert.deepEqual(drain(0), [
      { kind: "records", values: [0, 1, 2], timestamps: undefined },
      { kind: "records", values: [3, 4, 5], timestamps: undefined },
      { kind: "records", values: [6], timestamps: undefined },
      { kind: "watermark", timestamp: 100 },
      { kind: "records", values: [7], timestamps: undefined },
      { kind: "end" },
    ]);
  });

  it("keeps timestamps parallel to values, NaN for records without one", () => {
    const { writers, drain } = channels(1);
    const writer = new RecordWriter(writers, undefined, 10);
    writer.push("a", Number.NaN);
    writer.push("b", 5);
    writer.push("c", Number.NaN);
    writer.flush();
    assert.deepEqual(drain(0), [{ kind: "records", values: ["a", "b", "c"], timestamps: [Number.NaN, 5, Number.NaN] }]);
  });

  it("never lets a watermark, barrier or end-of-input overtake a record pushed before it, on any channel", () => {
    const op = fc.oneof(
      { weight: 5, arbitrary: fc.constant("record" as const) },
      { weight: 1, arbitrary: fc.constantFrom("watermark" as const, "barrier" as const, "flush" as const) },
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 5 }),
        fc.array(op, { maxLength: 80 }),
        (n, batchSize, ops) => {
          const { writers, drain } = channels(n);
          const writer = new RecordWriter(writers, new RoundRobinSelector(n, 0), batchSize);
          // Per channel, what a consumer must see: records in order, each control element after the records before it.
          const expected: Array<Array<string | number>> = Array.from({ length: n }, () => []);
          let next = 0;
          ops.forEach((o, i) => {
            if (o === "record") {
              (expected[next % n] as Array<string | number>).push(next);
              writer.push(next++, Number.NaN);
            } else if (o === "watermark") {
              writer.watermark(i);
              for (const e of expected) e.push(`w${i}`);
            } else if (o === "barrier") {
              writer.broadcastElement({ kind: "barrier", checkpointId: i, timestamp: 0 });
              for (const e of expected) e.push(`b${i}`);
            } else writer.flush();
          });
          writer.broadcastElement({ kind: "end" });
          for (const e of expected) e.push("end");
          for (let c = 0; c < n; c++) {
            const seen: Array<string | number> = [];
            for (const element of drain(c)) {
              if (element.kind === "records") {
                assert.ok(element.values.length <= batchSize);
                seen.push(...(element.values as number[]));
              } else if (element.kind === "watermark") seen.push(`w${element.timestamp}`);
              else if (element.kind === "barrier") seen.push(`b${element.checkpointId}`);
              else seen.push("end");
            }
            assert.deepEqual(seen, expected[c]);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("is writable only while every channel is, and names the first blocked channel", () => {
    const { writers } = channels(2, 1);
    const writer = new RecordWriter(writers, new RoundRobinSelector(2, 0), 1);
    assert.equal(writer.isWritable(), true);
    writer.push("a", Number.NaN); // fills channel 0's only credit
    assert.equal(writer.isWritable(), false);
    assert.equal(writer.blockedChannel(), writers[0]);
  });
});
