import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  collectSink,
  type DeadLetter,
  defineFunction,
  defineJob,
  egress,
  fromMachine,
  inspectMachineState,
  type MachineState,
} from "@keyflow/functions-sdk";
import { assign, createMachine, emit, sendTo, setup } from "xstate";
import { execute, inspectMachineInCheckpoint, MemoryCheckpointStorage, SimulatedClock } from "../../src/index.js";

const TICK = 1_000_000;

interface Total {
  readonly id: string;
  readonly total: number;
}
const totals = egress<Total>("totals");

/** What the tally's custom action does: throw once at `poison` (the flag outlives the restart, as a transient fault would). */
const fault = { poison: -1, failed: false, ticksBeforeFailure: -1, ticks: 0 };

/**
 * Adds numbers per key; `tickMs` after its first number it moves, once, from "fresh" to "ticked"
 * (an `after` transition) adding a million. Every change is emitted as the key's total.
 */
function tallyMachine(tickMs: number) {
  return setup({
    types: {
      context: {} as { total: number },
      events: {} as { type: "add"; n: number },
      emitted: {} as { type: "total"; total: number },
    },
    actions: {
      failOnce: ({ event }) => {
        if (event.type === "add" && event.n === fault.poison && !fault.failed) {
          fault.failed = true;
          fault.ticksBeforeFailure = fault.ticks;
          throw new Error(`transient fault at ${event.n}`);
        }
      },
      add: assign({ total: ({ context, event }) => context.total + (event.type === "add" ? event.n : 0) }),
      emitTotal: emit(({ context }) => ({ type: "total" as const, total: context.total })),
    },
  }).createMachine({
    context: { total: 0 },
    initial: "fresh",
    on: { add: { actions: ["failOnce", "add", "emitTotal"] } },
    states: {
      fresh: {
        after: {
          [tickMs]: {
            target: "ticked",
            actions: [assign({ total: ({ context }) => context.total + TICK }), "emitTotal"],
          },
        },
      },
      ticked: {},
    },
  });
}

function tallyFunction(tickMs: number) {
  return fromMachine({
    type: "test/tally",
    machine: tallyMachine(tickMs),
    on: {
      total: (ctx, event) => {
        if (event.total >= TICK && event.total - TICK < 1) fault.ticks++;
        ctx.egress(totals, { id: ctx.self.id, total: event.total });
      },
    },
  });
}

async function runTallies(options: { count: number; keys: number; tickMs: number; poison: number; batchSize: number }) {
  fault.poison = options.poison;
  fault.failed = false;
  fault.ticks = 0;
  fault.ticksBeforeFailure = -1;
  const tally = tallyFunction(options.tickMs);
  const sink = collectSink<Total>("totals");
  const job = defineJob("checkpointed tallies", (env) => {
    env
      .generate({ count: options.count, make: (i) => i })
      .setParallelism(2)
      .toFunctions({
        functions: [tally],
        route: (n) => ({ to: tally.address(`k${n % options.keys}`), message: { type: "add", n } }),
      })
      .uid("tallies")
      .egress(totals)
      .collect(sink);
  });
  const log: string[] = [];
  const result = await execute(job, {
    workers: 0,
    parallelism: 2,
    batchSize: options.batchSize,
    checkpoints: { intervalMs: 2, storage: new MemoryCheckpointStorage() },
    restartStrategy: { kind: "fixedDelay", attempts: 2, delayMs: 0 },
    log: (line) => log.push(line),
  });
  const finals = new Map<string, number>();
  for (const t of result.get(sink)) finals.set(t.id, Math.max(finals.get(t.id) ?? 0, t.total));
  const expected = new Map<string, number>();
  for (let n = 0; n < options.count; n++) {
    const key = `k${n % options.keys}`;
    expected.set(key, (expected.get(key) ?? TICK) + n);
  }
  return { finals, expected, log };
}

describe("machine-backed functions (fromMachine)", () => {
  it("keep each key's machine across a checkpointed restart: the final totals equal a run without failure", async () => {
    const { finals, expected, log } = await runTallies({
      count: 40_000,
      keys: 50,
      tickMs: 20,
      poison: 24_001,
      batchSize: 100,
    });
    const restarts = log.filter((line) => line.startsWith("job failed"));
    assert.equal(restarts.length, 1, log.join("\n"));
    assert.match(
      restarts[0] ?? "",
      /function "test\/tally" .* failed on message \{"type":"add","n":24001\}: transient fault/,
    );
    assert.ok(
      log.some((line) => line.startsWith("restoring from checkpoint")),
      log.join("\n"),
    );
    assert.deepEqual(finals, expected, "every key's `after` added its tick once, and every number once");
  });

  it("fire an `after` transition pending at the crash once, after the restore", async () => {
    const { finals, expected, log } = await runTallies({
      count: 4_000,
      keys: 20,
      tickMs: 1_500, // long enough that no tick fires before the fault, even on a loaded machine
      poison: 3_001,
      batchSize: 10,
    });
    assert.equal(log.filter((line) => line.startsWith("job failed")).length, 1, log.join("\n"));
    assert.equal(fault.ticksBeforeFailure, 0, "no tick had fired when the handler threw");
    assert.ok(
      log.some((line) => line.startsWith("restoring from checkpoint")),
      log.join("\n"),
    );
    assert.deepEqual(finals, expected);
  });

  it("cancel a pending `after` when its state is left, and schedule it anew when the state is re-entered", async () => {
    const clock = new SimulatedClock(0);
    const beeps = egress<string>("beeps");
    const sink = collectSink<string>("beeps");
    const timer = fromMachine({
      type: "test/timer",
      machine: setup({
        types: { events: {} as { type: "arm" } | { type: "disarm" }, emitted: {} as { type: "beep" } },
      }).createMachine({
        initial: "idle",
        states: {
          idle: { on: { arm: "armed" } },
          armed: {
            after: { 1000: { target: "idle", actions: emit({ type: "beep" as const }) } },
            on: { disarm: "idle", arm: { target: "armed", reenter: true } },
          },
        },
      }),
      on: { beep: (ctx) => ctx.egress(beeps, `${ctx.self.id}@${ctx.currentProcessingTime()}`) },
    });
    // Delivered when the clock first moves (100) unless later: "a" armed and left at 300; "b" armed
    // again at 500 (the delay starts anew); "c" armed once.
    const script: Array<[number, string, "arm" | "disarm"]> = [
      [0, "a", "arm"],
      [0, "b", "arm"],
      [0, "c", "arm"],
      [300, "a", "disarm"],
      [500, "b", "arm"],
    ];
    /** Delivers each scripted event at its time, as a delayed message. */
    const script_ = defineFunction({
      type: "test/script",
      handle(ctx, [at, id, type]: [number, string, "arm" | "disarm"]) {
        ctx.sendAfter(at, timer.address(id), { type });
      },
    });
    const job = defineJob("timers", (env) => {
      const functions = env.fromCollection(script).toFunctions({
        functions: [timer, script_],
        route: (line) => ({ to: script_.address(line[1]), message: line }),
      });
      functions.egress(beeps).collect(sink);
    });
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    let done = false;
    const run = execute(job, { parallelism: 2, workers: 0, clock }).finally(() => {
      done = true;
    });
    for (let step = 0; step < 40 && !done; step++) {
      for (let i = 0; i < 5; i++) await settle();
      clock.advance(100);
    }
    const result = await run;
    assert.deepEqual(result.get(sink).sort(), ["b@1500", "c@1100"]);
  });

  it("show a key's machine (value and context) from a checkpoint", async () => {
    const storage = new MemoryCheckpointStorage();
    const counter = fromMachine({
      type: "test/counter-machine",
      machine: createMachine({
        types: {} as { context: { count: number }; events: { type: "inc" } },
        context: { count: 0 },
        initial: "counting",
        states: {
          counting: {
            on: { inc: { actions: assign({ count: ({ context }) => context.count + 1 }) } },
            after: { 1000: "resting" },
          },
          resting: {},
        },
      }),
    });
    const job = defineJob("inspected", (env) => {
      env
        // The source runs on for 0.6 s (checkpoints are taken while it does); four records pass.
        .generate({ count: 60, ratePerSecond: 100, make: (i) => ["x", "y", "x", "x"][i] })
        .filter((id): id is string => id !== undefined)
        .toFunctions({ functions: [counter], route: (id) => ({ to: counter.address(id), message: { type: "inc" } }) })
        .uid("counters");
    });
    let seen: unknown;
    const run = execute(job, { workers: 0, parallelism: 2, checkpoints: { intervalMs: 10, storage } });
    // While the machines wait in "counting" for their `after`, checkpoints hold them.
    for (let i = 0; i < 100 && seen === undefined; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      const x = await inspectMachineInCheckpoint(storage, { uid: "counters", functionType: counter, id: "x" });
      if (x !== undefined && (x.context as { count: number }).count === 3) seen = x;
    }
    await run;
    assert.deepEqual(seen, {
      value: "counting",
      context: { count: 3 },
      status: "active",
      output: undefined,
      delayed: ["xstate.after.1000.(machine).counting"],
    });
    assert.equal(
      await inspectMachineInCheckpoint(storage, {
        uid: "counters",
        functionType: "test/counter-machine",
        id: "nobody",
      }),
      undefined,
    );
    assert.equal(inspectMachineState(undefined), undefined);
  });

  it("fail naming the function type when a machine sends to another actor or emits what `on` does not map", async () => {
    const dead = egress<DeadLetter>("dead");
    const sink = collectSink<DeadLetter>("dead");
    const sender = fromMachine({
      type: "test/sender",
      machine: createMachine({
        types: {} as { events: { type: "go" } | { type: "shout" } },
        on: {
          go: { actions: sendTo(({ self }) => self, { type: "shout" }) },
          shout: { actions: emit({ type: "unmapped" }) },
        },
      }),
    });
    const job = defineJob("bad machines", (env) => {
      env
        .fromCollection<"go" | "shout">(["go", "shout"])
        .toFunctions({
          functions: [sender],
          route: (type) => ({ to: sender.address("s"), message: { type } }),
          deadLetters: dead,
        })
        .egress(dead)
        .collect(sink);
    });
    const result = await execute(job, { workers: 0, parallelism: 1 });
    const errors = result.get(sink).map((letter) => `${letter.error.code}: ${letter.error.message}`);
    assert.equal(errors.length, 2);
    assert.match(
      errors[0] ?? "",
      /^MACHINE_FEATURE_UNSUPPORTED: function type "test\/sender": sendTo is not supported/,
    );
    assert.match(
      errors[1] ?? "",
      /^MACHINE_EMIT_UNHANDLED: function type "test\/sender": the machine emitted \{"type":"unmapped"\}/,
    );
  });

  it("refuse a machine that invokes an actor, naming the function type and the state", () => {
    const machine = createMachine({
      initial: "loading",
      states: { loading: { invoke: { src: "fetcher" } } },
    });
    assert.throws(
      () => fromMachine({ type: "test/fetching", machine }),
      (error: Error & { code?: string }) =>
        error.code === "MACHINE_FEATURE_UNSUPPORTED" &&
        /"test\/fetching": invoke \(state "#\(machine\)\.loading"/.test(error.message),
    );
  });

  it("store the machine's persisted snapshot and its pending delayed events as the key's state", () => {
    const state: MachineState = {
      snapshot: { value: { a: "b" }, context: { n: 1 }, status: "active", output: undefined },
      delayed: { "xstate.after.5.x": ['["t","k",0]', 0] },
      next: 1,
    };
    assert.deepEqual(inspectMachineState(state), {
      value: { a: "b" },
      context: { n: 1 },
      status: "active",
      output: undefined,
      delayed: ["xstate.after.5.x"],
    });
  });
});
