import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type LoopCounts, TerminationCoordinator } from "../../src/handler/loop-termination.js";

function coordinator(participants: number[]) {
  const probes: number[] = [];
  let quiet = 0;
  const c = new TerminationCoordinator({
    participants,
    probe: (round) => probes.push(round),
    quiet: () => quiet++,
  });
  return { c, probes, quiet: () => quiet };
}

const n = (sent: number, received: number): LoopCounts => ({ sent, received });

describe("termination detection of a feedback loop over several participants", () => {
  it("probes only once every participant reported passive and the counts balance", () => {
    const { c, probes } = coordinator([0, 1]);
    c.onPassive(0, n(3, 2));
    assert.deepEqual(probes, [], "participant 1 has not reported");
    c.onPassive(1, n(1, 1));
    assert.deepEqual(probes, [], "3 + 1 sent, 2 + 1 received: one message in flight");
    c.onPassive(1, n(1, 2));
    assert.deepEqual(probes, [1]);
  });

  it("declares the loop quiet when every answer repeats the reported counts", () => {
    const { c, quiet } = coordinator([0, 1]);
    c.onPassive(0, n(3, 2));
    c.onPassive(1, n(2, 3));
    c.onAnswer(1, 0, n(3, 2));
    assert.equal(quiet(), 0, "one answer is missing");
    c.onAnswer(1, 1, n(2, 3));
    assert.equal(quiet(), 1);
    assert.equal(c.terminated, true);
  });

  it("does not end when a participant received something between its report and the probe", () => {
    const { c, probes, quiet } = coordinator([0, 1, 2]);
    c.onPassive(0, n(1, 1));
    c.onPassive(1, n(1, 1));
    c.onPassive(2, n(1, 1));
    // Between the reports and the probe, participant 1 received a message (its count moved) and
    // participant 2 became active again: neither answer confirms the reports.
    c.onAnswer(1, 0, n(1, 1));
    c.onAnswer(1, 1, n(1, 2));
    c.onAnswer(1, 2, undefined);
    assert.equal(quiet(), 0);
    assert.deepEqual(probes, [1], "no new probe while participant 2 may be active");
    c.onPassive(2, n(2, 1));
    assert.deepEqual(probes, [1, 2], "balanced again: 4 sent, 4 received");
    c.onAnswer(2, 0, n(1, 1));
    c.onAnswer(2, 1, n(1, 2));
    c.onAnswer(2, 2, n(2, 1));
    assert.equal(quiet(), 1);
  });

  it("probes again at once when every answer is passive but the counts moved", () => {
    const { c, probes, quiet } = coordinator([0, 1]);
    c.onPassive(0, n(1, 1));
    c.onPassive(1, n(1, 1));
    c.onAnswer(1, 0, n(2, 2));
    c.onAnswer(1, 1, n(2, 2));
    assert.deepEqual(probes, [1, 2]);
    assert.equal(quiet(), 0, "two observations that differ prove nothing");
    c.onAnswer(2, 0, n(2, 2));
    c.onAnswer(2, 1, n(2, 2));
    assert.equal(quiet(), 1);
  });

  it("ignores answers to an older round", () => {
    const { c, quiet } = coordinator([0, 1]);
    c.onPassive(0, n(0, 0));
    c.onPassive(1, n(0, 0));
    c.onAnswer(7, 0, n(0, 0));
    c.onAnswer(7, 1, n(0, 0));
    assert.equal(quiet(), 0);
  });
});
