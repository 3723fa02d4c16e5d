import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BarrierAligner } from "../../src/checkpoint/barrier-aligner.js";

describe("BarrierAligner", () => {
  it("holds a channel once its barrier for checkpoint 7 arrived, until every channel delivered it", () => {
    const aligner = new BarrierAligner(3);
    assert.equal(aligner.onBarrier(1, 7), "waiting");
    assert.equal(aligner.isBlocked(1), true);
    assert.equal(aligner.isBlocked(0), false);
    assert.equal(aligner.onBarrier(0, 7), "waiting");
    assert.equal(aligner.onBarrier(2, 7), "aligned");
    assert.deepEqual(
      [0, 1, 2].map((c) => aligner.isBlocked(c)),
      [false, false, false],
    );
    assert.equal(aligner.aligning, undefined);
  });

  it("aligns at once with one input", () => {
    assert.equal(new BarrierAligner(1).onBarrier(0, 1), "aligned");
  });

  it("stops waiting for a channel that ends", () => {
    const aligner = new BarrierAligner(2);
    assert.equal(aligner.onBarrier(0, 3), "waiting");
    assert.equal(aligner.onEnd(1), "aligned");
    assert.equal(aligner.isBlocked(0), false);
    assert.equal(aligner.onBarrier(0, 4), "aligned", "the ended channel no longer counts");
  });

  it("abandons an older checkpoint when a newer barrier overtakes it, and ignores its late barriers", () => {
    const aligner = new BarrierAligner(2);
    assert.equal(aligner.onBarrier(0, 5), "waiting");
    assert.deepEqual(aligner.onBarrier(0, 6), { abandoned: 5 });
    assert.equal(aligner.onBarrier(1, 5), "stale");
    assert.equal(aligner.onBarrier(1, 6), "aligned");
  });
});
