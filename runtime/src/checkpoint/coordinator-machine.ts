import { assign, setup } from "xstate";

/**
 * The checkpoint coordinator's lifecycle as a state machine (xstate):
 * - "idle": running, no checkpoint in flight; the interval timer decides when the next starts.
 * - "checkpointing": one or more checkpoints in flight (at most `maxConcurrent`).
 * - "sourcesFinished": a source ended, so no further checkpoint can be taken (every source must
 *   inject the barrier); those in flight may still complete.
 * - "stopped": the job ended or is restarting; nothing more happens.
 * The coordinator sends events and logs each state it enters; the machine's guards decide what
 * may happen when (a trigger beyond the concurrency limit, or after stop, is refused).
 */
export const coordinatorMachine = setup({
  types: {
    context: {} as { readonly maxConcurrent: number; inFlight: number; completed: number; aborted: number },
    input: {} as { maxConcurrent: number },
    events: {} as
      | { type: "TRIGGER" }
      | { type: "SAVEPOINT" }
      | { type: "COMPLETED" }
      | { type: "ABORTED" }
      | { type: "SOURCES_FINISHED" }
      | { type: "STOP" },
  },
  guards: {
    belowLimit: ({ context }) => context.inFlight < context.maxConcurrent,
    lastInFlight: ({ context }) => context.inFlight === 1,
  },
  actions: {
    started: assign({ inFlight: ({ context }) => context.inFlight + 1 }),
    completed: assign({
      inFlight: ({ context }) => context.inFlight - 1,
      completed: ({ context }) => context.completed + 1,
    }),
    aborted: assign({
      inFlight: ({ context }) => context.inFlight - 1,
      aborted: ({ context }) => context.aborted + 1,
    }),
  },
}).createMachine({
  id: "checkpoint-coordinator",
  context: ({ input }) => ({ maxConcurrent: input.maxConcurrent, inFlight: 0, completed: 0, aborted: 0 }),
  initial: "idle",
  states: {
    idle: {
      on: {
        TRIGGER: { guard: "belowLimit", target: "checkpointing", actions: "started" },
        SAVEPOINT: { target: "checkpointing", actions: "started" },
        SOURCES_FINISHED: "sourcesFinished",
        STOP: "stopped",
      },
    },
    checkpointing: {
      on: {
        TRIGGER: { guard: "belowLimit", actions: "started" },
        // A savepoint is taken on request, beyond the limit of concurrent checkpoints (as Flink's).
        SAVEPOINT: { actions: "started" },
        COMPLETED: [{ guard: "lastInFlight", target: "idle", actions: "completed" }, { actions: "completed" }],
        ABORTED: [{ guard: "lastInFlight", target: "idle", actions: "aborted" }, { actions: "aborted" }],
        SOURCES_FINISHED: "sourcesFinished",
        STOP: "stopped",
      },
    },
    sourcesFinished: {
      on: {
        COMPLETED: { actions: "completed" },
        ABORTED: { actions: "aborted" },
        STOP: "stopped",
      },
    },
    stopped: { type: "final" },
  },
});

export type CoordinatorState = "idle" | "checkpointing" | "sourcesFinished" | "stopped";
