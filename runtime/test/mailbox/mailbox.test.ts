import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { StreamElement } from "../../src/element/stream-element.js";
import { Mailbox } from "../../src/mailbox/mailbox.js";

const watermark = (timestamp: number): StreamElement => ({ kind: "watermark", timestamp });

describe("Mailbox", () => {
  it("takes elements in the order they were put, each with the channel it came on", () => {
    const mailbox = new Mailbox();
    mailbox.put(2, watermark(1));
    mailbox.put(0, { kind: "records", values: [1], timestamps: undefined });
    mailbox.put(1, { kind: "end" });
    assert.equal(mailbox.size, 3);
    const taken: Array<[number, string]> = [];
    while (!mailbox.isEmpty()) {
      const channel = mailbox.peekChannel();
      taken.push([channel, mailbox.take().kind]);
    }
    assert.deepEqual(taken, [
      [2, "watermark"],
      [0, "records"],
      [1, "end"],
    ]);
    assert.equal(mailbox.size, 0);
  });

  it("keeps first-in first-out order over long runs of interleaved puts and takes", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 400 }), (bursts) => {
        const mailbox = new Mailbox();
        let put = 0;
        let taken = 0;
        for (const burst of bursts) {
          // Puts run ahead of takes so the mailbox compacts its arrays along the way.
          for (let i = 0; i < burst * 3; i++) mailbox.put(put % 5, watermark(put++));
          for (let i = 0; i < burst * 2 && !mailbox.isEmpty(); i++) {
            assert.equal(mailbox.peekChannel(), taken % 5);
            assert.deepEqual(mailbox.take(), watermark(taken++));
          }
          assert.equal(mailbox.size, put - taken);
        }
        while (!mailbox.isEmpty()) assert.deepEqual(mailbox.take(), watermark(taken++));
        assert.equal(taken, put);
      }),
      { numRuns: 100 },
    );
  });

  it("drops everything on clear", () => {
    const mailbox = new Mailbox();
    mailbox.put(0, watermark(1));
    mailbox.clear();
    assert.equal(mailbox.isEmpty(), true);
    mailbox.put(1, watermark(2));
    assert.equal(mailbox.peekChannel(), 1);
    assert.deepEqual(mailbox.take(), watermark(2));
  });
});
