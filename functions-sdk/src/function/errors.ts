import { describeRecord, KeyflowError } from "../errors.js";

/**
 * A machine given to `fromMachine` uses what a per-key function cannot run deterministically and
 * durably: an invoked or spawned actor (a promise, a callback, a child machine), or `sendTo` to
 * another actor. Names the function type and the feature. Thrown by `fromMachine` when the machine
 * declares it, or by the handler when a transition asks for it. Terminal: rewrite the machine
 * (send to other keys with `emit` mapped in `fromMachine`'s `on`, keep timers as `after` or
 * delayed `raise`).
 */
export class MachineFeatureUnsupportedError extends KeyflowError {
  readonly code = "MACHINE_FEATURE_UNSUPPORTED";
  constructor(
    readonly functionType: string,
    readonly feature: string,
    hint: string,
  ) {
    super(`function type "${functionType}": ${feature} is not supported in a machine-backed function; ${hint}`);
  }
}

/**
 * A machine emitted an event that `fromMachine`'s `on` does not map to sends or egress. Emitted
 * events are the machine's only way out, so one nobody handles would be lost: the handler throws
 * instead. Terminal: add the event's type to `on` (a handler that does nothing is fine).
 */
export class MachineEmitUnhandledError extends KeyflowError {
  readonly code = "MACHINE_EMIT_UNHANDLED";
  constructor(
    readonly functionType: string,
    readonly event: unknown,
  ) {
    super(
      `function type "${functionType}": the machine emitted ${describeRecord(event, 120)}, which its "on" does not map`,
    );
  }
}
