import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RestartPolicy } from "../../src/index.js";

describe("restart strategies", () => {
  it("none gives up at once", () => {
    assert.deepEqual(new RestartPolicy({ kind: "none" }).onFailure(0, 0), {
      restart: false,
      why: "the restart strategy is none",
    });
  });

  it("fixed delay restarts `attempts` times, each after the delay", () => {
    const policy = new RestartPolicy({ kind: "fixedDelay", attempts: 2, delayMs: 250 });
    assert.deepEqual(policy.onFailure(10, 0), { restart: true, delayMs: 250 });
    assert.deepEqual(policy.onFailure(20, 0), { restart: true, delayMs: 250 });
    assert.equal(policy.onFailure(30, 0).restart, false);
  });

  it("failure rate restarts while the failures within the interval stay within the limit", () => {
    const policy = new RestartPolicy({ kind: "failureRate", maxFailures: 2, intervalMs: 1_000, delayMs: 5 });
    assert.equal(policy.onFailure(0, 0).restart, true);
    assert.equal(policy.onFailure(500, 0).restart, true);
    const third = policy.onFailure(900, 0);
    assert.equal(third.restart, false);
    assert.match((third as { why: string }).why, /3 failures within 1000 ms; the strategy allows 2/);
    // Old failures leave the window: a failure much later is allowed again.
    assert.deepEqual(
      new RestartPolicy({ kind: "failureRate", maxFailures: 1, intervalMs: 100, delayMs: 5 }).onFailure(0, 0),
      {
        restart: true,
        delayMs: 5,
      },
    );
    const spaced = new RestartPolicy({ kind: "failureRate", maxFailures: 1, intervalMs: 100, delayMs: 5 });
    spaced.onFailure(0, 0);
    assert.equal(spaced.onFailure(150, 0).restart, true);
  });

  it("exponential delay doubles up to the maximum, with jitter, and starts over after a long healthy run", () => {
    const noJitter = () => 0.5; // 2 * 0.5 - 1 = 0: no jitter
    const policy = new RestartPolicy(
      { kind: "exponentialDelay", initialDelayMs: 100, maxDelayMs: 500, resetAfterMs: 10_000 },
      noJitter,
    );
    const delays = [0, 1, 2, 3, 4].map((i) => (policy.onFailure(i * 10, i * 10 - 1) as { delayMs: number }).delayMs);
    assert.deepEqual(delays, [100, 200, 400, 500, 500]);
    assert.deepEqual(policy.onFailure(100_000, 50_000), { restart: true, delayMs: 100 }, "a 50 s run resets the delay");
    const jittered = new RestartPolicy(
      { kind: "exponentialDelay", initialDelayMs: 1_000, maxDelayMs: 1_000, jitter: 0.2 },
      () => 1,
    );
    assert.deepEqual(jittered.onFailure(0, 0), { restart: true, delayMs: 1_200 });
  });

  it("refuses settings that make no sense, naming the setting", () => {
    assert.throws(() => new RestartPolicy({ kind: "fixedDelay", attempts: -1, delayMs: 0 }), /fixedDelay: attempts/);
    assert.throws(
      () => new RestartPolicy({ kind: "exponentialDelay", initialDelayMs: 10, maxDelayMs: 5 }),
      /initialDelayMs ≤ maxDelayMs/,
    );
  });
});
