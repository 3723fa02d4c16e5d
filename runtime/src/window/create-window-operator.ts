import type { WindowSpec } from "@keyflow/functions-sdk";
import type { OperatorContext, StreamOperator } from "../operator/operator.js";
import { AlignedWindowOperator } from "./aligned-window-operator.js";
import { WindowOperator } from "./window-operator.js";

/**
 * The window operator of a `KeyedStream.window(...)` / `countWindow(...)`: the aligned fast path
 * for tumbling and sliding event-time windows with their default trigger, no evictor and an
 * incremental reduce or aggregate; the general WindowOperator for everything else. Both have
 * Flink's WindowOperator semantics.
 */
export function createWindowOperator(context: OperatorContext, spec: WindowSpec): StreamOperator {
  return canAlign(spec) ? new AlignedWindowOperator(context, spec) : new WindowOperator(context, spec);
}

/** True when the aligned fast path computes exactly what WindowOperator would. */
export function canAlign(spec: WindowSpec): boolean {
  const shape = spec.assigner.shape.type;
  return (
    (shape === "tumbling" || shape === "sliding") &&
    spec.assigner.isEventTime &&
    spec.trigger === undefined &&
    spec.evictor === undefined &&
    spec.function.kind !== "process"
  );
}
