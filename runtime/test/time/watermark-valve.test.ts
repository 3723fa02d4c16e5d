import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { WatermarkValve } from "../../src/time/watermark-valve.js";

type Step = { readonly channel: number; readonly watermark: number } | { readonly channel: number; readonly end: true };

describe("WatermarkValve", () => {
  it("holds event time at the slowest channel", () => {
    const valve = new WatermarkValve(3);
    assert.equal(valve.update(0, 10), undefined);
    assert.equal(valve.update(1, 20), undefined);
    assert.equal(valve.update(2, 5), 5);
    assert.equal(valve.update(2, 30), 10);
    assert.equal(valve.update(0, 25), 20);
    assert.equal(valve.watermark, 20);
  });

  it("ignores a channel's watermark that does not advance that channel", () => {
    const valve = new WatermarkValve(1);
    assert.equal(valve.update(0, 10), 10);
    assert.equal(valve.update(0, 10), undefined);
    assert.equal(valve.update(0, 3), undefined);
    assert.equal(valve.watermark, 10);
  });

  it("stops an ended channel from holding event time back", () => {
    const valve = new WatermarkValve(2);
    assert.equal(valve.update(0, 100), undefined);
    assert.equal(valve.end(1), 100);
    assert.equal(valve.update(0, 150), 150);
  });

  it("does not move event time when every channel ended", () => {
    const valve = new WatermarkValve(2);
    valve.update(0, 7);
    valve.update(1, 9);
    assert.equal(valve.watermark, 7);
    valve.end(0);
    assert.equal(valve.watermark, 9);
    assert.equal(valve.end(1), undefined);
    assert.equal(valve.watermark, 9);
  });

  it("emits the minimum over channels that have not ended, and only ever forward", () => {
    const step: fc.Arbitrary<Step> = fc.oneof(
      {
        weight: 6,
        arbitrary: fc.record({ channel: fc.nat({ max: 3 }), watermark: fc.integer({ min: -50, max: 200 }) }),
      },
      { weight: 1, arbitrary: fc.record({ channel: fc.nat({ max: 3 }), end: fc.constant(true as const) }) },
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(step, { maxLength: 60 }), (channels, steps) => {
        const valve = new WatermarkValve(channels);
        const latest = new Array<number>(channels).fill(Number.NEGATIVE_INFINITY);
        const ended = new Array<boolean>(channels).fill(false);
        let current = Number.NEGATIVE_INFINITY;
        for (const s of steps) {
          if (s.channel >= channels || ended[s.channel]) continue;
          let emitted: number | undefined;
          if ("end" in s) {
            ended[s.channel] = true;
            emitted = valve.end(s.channel);
          } else {
            latest[s.channel] = Math.max(latest[s.channel] as number, s.watermark);
            emitted = valve.update(s.channel, s.watermark);
          }
          const open = latest.filter((_, c) => !ended[c]);
          const min = open.length === 0 ? current : Math.min(...open);
          const expected = min > current ? min : undefined;
          assert.equal(emitted, expected);
          if (expected !== undefined) current = expected;
          assert.equal(valve.watermark, current);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe("WatermarkValve with idle channels", () => {
  it("leaves an idle channel out of the minimum, and takes it back in when it is active again", () => {
    const valve = new WatermarkValve(2);
    assert.equal(valve.update(0, 50), undefined);
    assert.equal(valve.setIdle(1, true), 50);
    assert.equal(valve.statusChange(), undefined, "one channel is still active");
    assert.equal(valve.update(0, 80), 80);
    assert.equal(valve.setIdle(1, false), undefined, "its watermark is behind, but event time never goes back");
    assert.equal(valve.update(0, 90), undefined, "channel 1 holds event time again");
    assert.equal(valve.update(1, 85), 85);
  });

  it("goes idle when every live channel is idle, and active when one wakes up", () => {
    const valve = new WatermarkValve(3);
    valve.end(2);
    valve.setIdle(0, true);
    assert.equal(valve.statusChange(), undefined);
    valve.setIdle(1, true);
    assert.equal(valve.statusChange(), "idle");
    assert.equal(valve.isIdle, true);
    valve.setIdle(0, false);
    assert.equal(valve.statusChange(), "active");
    assert.equal(valve.statusChange(), undefined);
  });

  it("does not count an idle channel's watermark until it is active", () => {
    const valve = new WatermarkValve(2);
    valve.update(0, 10);
    valve.setIdle(1, true);
    assert.equal(valve.update(1, 1_000), undefined);
    assert.equal(valve.watermark, 10);
  });
});
