import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SimulatedClock } from "../../src/time/clock.js";

describe("SimulatedClock", () => {
  it("moves only when advanced", () => {
    const clock = new SimulatedClock(1000);
    assert.equal(clock.now(), 1000);
    clock.advance(250);
    assert.equal(clock.now(), 1250);
  });

  it("fires due callbacks in time order, at their time, and callbacks they schedule when due", () => {
    const clock = new SimulatedClock();
    const fired: Array<[string, number]> = [];
    clock.schedule(30, () => fired.push(["c", clock.now()]));
    clock.schedule(10, () => {
      fired.push(["a", clock.now()]);
      clock.schedule(5, () => fired.push(["a+5", clock.now()]));
    });
    clock.schedule(10, () => fired.push(["b", clock.now()]));
    clock.schedule(100, () => fired.push(["late", clock.now()]));
    clock.advance(50);
    assert.deepEqual(fired, [
      ["a", 10],
      ["b", 10],
      ["a+5", 15],
      ["c", 30],
    ]);
    assert.equal(clock.now(), 50);
    clock.advance(50);
    assert.deepEqual(fired.at(-1), ["late", 100]);
  });

  it("does not fire a cancelled callback", () => {
    const clock = new SimulatedClock();
    let fired = false;
    const cancel = clock.schedule(10, () => {
      fired = true;
    });
    cancel();
    clock.advance(20);
    assert.equal(fired, false);
  });

  it("resolves sleep only once time has passed", async () => {
    const clock = new SimulatedClock();
    let woke = false;
    const sleeping = clock.sleep(100).then(() => {
      woke = true;
    });
    clock.advance(99);
    await Promise.resolve();
    assert.equal(woke, false);
    clock.advance(1);
    await sleeping;
    assert.equal(woke, true);
  });
});
