import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defineJob, type Source } from "@keyflow/functions-sdk";
import { execute } from "../../src/index.js";
import { MailboxScheduler, type Runnable } from "../../src/mailbox/mailbox-scheduler.js";

/** A runnable (a stand-in for a shard) with `slices` slices of work, each busy for `busyMs`, recording when it ran. */
class Chore implements Runnable {
  scheduled = false;
  ran = 0;
  constructor(
    readonly name: string,
    private slices: number,
    private readonly log: string[],
    private readonly busyMs = 0,
  ) {}
  runSlice(): boolean {
    const until = performance.now() + this.busyMs;
    while (performance.now() < until) {}
    this.ran++;
    this.log.push(this.name);
    return --this.slices > 0;
  }
}

const idle = () => new Promise<void>((resolve) => setTimeout(resolve, 5));
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await idle();
  }
}

describe("MailboxScheduler", () => {
  it("runs two busy shards in turn, so both progress", async () => {
    const scheduler = new MailboxScheduler();
    const log: string[] = [];
    const a = new Chore("a", 200, log);
    const b = new Chore("b", 200, log);
    scheduler.wake(a);
    scheduler.wake(b);
    await until(() => a.ran === 200 && b.ran === 200, "both finished");
    assert.deepEqual(log.slice(0, 6), ["a", "b", "a", "b", "a", "b"]);
    for (let i = 0; i < log.length; i++) {
      const seen = log.slice(0, i + 1);
      const as = seen.filter((n) => n === "a").length;
      assert.ok(Math.abs(as - (seen.length - as)) <= 1, `at slice ${i} one shard ran ahead: ${as} of ${seen.length}`);
    }
  });

  it("yields to the event loop between ticks, so timers and messages get in while shards are busy", async () => {
    const scheduler = new MailboxScheduler();
    const log: string[] = [];
    const busy = new Chore("busy", 100, log, 1);
    let timerFiredAfter = -1;
    scheduler.wake(busy);
    setTimeout(() => {
      timerFiredAfter = busy.ran;
    }, 0);
    await until(() => busy.ran === 100, "the busy shard finished");
    assert.ok(timerFiredAfter >= 0 && timerFiredAfter < 100, `the timer fired after ${timerFiredAfter} slices`);
  });

  it("queues a shard once however often it is woken", async () => {
    const scheduler = new MailboxScheduler();
    const log: string[] = [];
    const a = new Chore("a", 1, log);
    scheduler.wake(a);
    scheduler.wake(a);
    scheduler.wake(a);
    await idle();
    assert.deepEqual(log, ["a"]);
  });

  it("runs after-tick hooks once per tick and hands a throwing slice to onError, going on with the others", async () => {
    const scheduler = new MailboxScheduler();
    const log: string[] = [];
    let ticks = 0;
    scheduler.afterTick(() => ticks++);
    const failures: unknown[] = [];
    scheduler.onError = (_runnable, error) => failures.push(error);
    const broken: Runnable = {
      scheduled: false,
      runSlice() {
        throw new Error("boom");
      },
    };
    const ok = new Chore("ok", 3, log);
    scheduler.wake(broken);
    scheduler.wake(ok);
    await until(() => ok.ran === 3, "the healthy shard finished");
    assert.equal(failures.length, 1);
    assert.ok(ticks >= 1);
  });

  it("runs nothing once stopped", async () => {
    const scheduler = new MailboxScheduler();
    const log: string[] = [];
    const a = new Chore("a", 5, log);
    scheduler.wake(a);
    scheduler.stop();
    scheduler.wake(new Chore("b", 1, log));
    await idle();
    assert.deepEqual(log, []);
  });
});

describe("MailboxScheduler with real shards", () => {
  it("lets two source shards on one thread both progress before either finishes", async () => {
    const total = 50_000;
    const emitted = { a: 0, b: 0 };
    const otherWhenDone = { a: -1, b: -1 };
    const counting = (name: "a" | "b"): Source<string> => ({
      createReader: () => ({
        poll(out, max) {
          for (let i = 0; i < max && emitted[name] < total; i++, emitted[name]++) out.collect(name);
          if (emitted[name] < total) return "more";
          otherWhenDone[name] = emitted[name === "a" ? "b" : "a"];
          return "end";
        },
      }),
    });
    const job = defineJob("two-sources", (env) => {
      env.fromSource(counting("a"), "A").discard();
      env.fromSource(counting("b"), "B").discard();
    });
    await execute(job, { workers: 0 });
    assert.deepEqual(emitted, { a: total, b: total });
    const first = otherWhenDone.a < otherWhenDone.b ? "a" : "b";
    const otherAtFirstEnd = otherWhenDone[first];
    assert.ok(
      otherAtFirstEnd > 0 && otherAtFirstEnd < total,
      `when ${first} ended the other source had emitted ${otherAtFirstEnd} of ${total}`,
    );
  });
});
