/**
 * Messages per second of a small machine-backed function against a plain one, embedded on one
 * thread, and the per-message cost of stepping the machine alone (ours, and xstate's public
 * `transition` with a restore from the persisted snapshot each time).
 * Run: `node runtime/dist/test/functions/machine-bench.js [messages] [keys]`.
 */
import { defineFunction, defineJob, fromMachine, valueState } from "@keyflow/functions-sdk";
import { assign, createMachine, transition } from "xstate";
import { execute } from "../../src/index.js";

const MESSAGES = Number(process.argv[2] ?? 200_000);
const KEYS = Number(process.argv[3] ?? 1_000);

const machine = createMachine({
  types: {} as { context: { count: number }; events: { type: "inc" } | { type: "pause" } },
  context: { count: 0 },
  initial: "counting",
  states: {
    counting: {
      on: { inc: { actions: assign({ count: ({ context }) => context.count + 1 }) }, pause: "paused" },
    },
    paused: { on: { inc: "counting" } },
  },
});

const counterMachine = fromMachine({ type: "bench/counter-machine", machine });
const counterPlain = defineFunction({
  type: "bench/counter",
  state: { count: valueState<number>() },
  handle(ctx, _message: { type: "inc" }) {
    ctx.state.count.update((ctx.state.count.value() ?? 0) + 1);
  },
});

async function endToEnd(fn: typeof counterMachine | typeof counterPlain): Promise<number> {
  const job = defineJob("bench", (env) => {
    env.generate({ count: MESSAGES, make: (i) => `k${i % KEYS}` }).toFunctions({
      functions: [fn as typeof counterMachine],
      route: (id) => ({ to: (fn as typeof counterMachine).address(id), message: { type: "inc" } }),
    });
  });
  const started = performance.now();
  await execute(job, { workers: 0, parallelism: 1 });
  return MESSAGES / ((performance.now() - started) / 1000);
}

function steppingAlone(): { ours: number; xstateTransition: number } {
  const states = new Map<string, unknown>();
  const ctx = {
    self: counterMachine.address("k"),
    state: {
      machine: {
        value: () => states.get(ctx.self.id),
        update: (v: unknown) => states.set(ctx.self.id, v),
      },
    },
  } as unknown as Parameters<typeof counterMachine.handle>[0];
  let started = performance.now();
  for (let i = 0; i < MESSAGES; i++) {
    (ctx as { self: unknown }).self = { type: "bench/counter-machine", id: `k${i % KEYS}` };
    counterMachine.handle(ctx, { type: "inc" });
  }
  const ours = MESSAGES / ((performance.now() - started) / 1000);
  const persisted = new Map<string, unknown>();
  started = performance.now();
  const n = Math.min(MESSAGES, 50_000);
  for (let i = 0; i < n; i++) {
    const key = `k${i % KEYS}`;
    const stored = persisted.get(key);
    const snapshot =
      stored === undefined ? machine.getInitialSnapshot(undefined as never) : machine.resolveState(stored as never);
    const [next] = transition(machine, snapshot, { type: "inc" });
    persisted.set(key, machine.getPersistedSnapshot(next));
  }
  const xstateTransition = n / ((performance.now() - started) / 1000);
  return { ours, xstateTransition };
}

const alone = steppingAlone();
const plain = await endToEnd(counterPlain);
const machined = await endToEnd(counterMachine);
console.log(
  JSON.stringify({
    messages: MESSAGES,
    keys: KEYS,
    plainFunctionMps: Math.round(plain),
    machineFunctionMps: Math.round(machined),
    steppingAloneMps: Math.round(alone.ours),
    xstateTransitionWithRestoreMps: Math.round(alone.xstateTransition),
  }),
);
