import { inspectMachineState } from "@keyflow/functions-sdk";
import type { StreamOperator } from "../operator/operator.js";
import { KeyedStateBackend } from "../state/keyed-state-backend.js";
import type { QueryTarget } from "./resolve-query.js";

/** What a read found: the key's state, or nothing. */
export type KeyStateRead = { readonly found: true; readonly state: unknown } | { readonly found: false };

/**
 * Reads the queried key's state from the operators of the shard owning it, on that shard's thread
 * (inside `Shard.readBetweenElements`). Read-only: values are copies (KeyedStateBackend.peek), no
 * TTL restarts, no change is recorded for checkpoints.
 *
 * - a function type's declared states, each under its name (`<type>/<name>` in the backend), only
 *   those the key has; a `fromMachine` type's as its inspection `{ value, context, status, output, delayed }`;
 * - a keyed operator's states by name (internal ones, named `__…`, left out).
 *
 * Found is false when the key has none of them.
 */
export function readKeyState(operators: readonly StreamOperator[], target: QueryTarget): KeyStateRead {
  const operator = operators.find((o) => o.node.uid === target.operator.uid);
  const backend = (operator as { backend?: unknown } | undefined)?.backend;
  if (!(backend instanceof KeyedStateBackend)) {
    throw new Error(`operator "${target.operator.uid}" keeps no keyed state on shard ${target.shard}`);
  }
  const key = target.query.key;
  const state: Record<string, unknown> = {};
  let found = false;
  const fn = target.fn;
  const names =
    fn === undefined
      ? backend.stateNames().filter((name) => !name.startsWith("__"))
      : Object.keys(fn.state as object).map((name) => `${fn.type}/${name}`);
  const prefix = fn === undefined ? 0 : fn.type.length + 1;
  for (const name of names) {
    const value = backend.peek(name, key);
    if (value === undefined) continue;
    state[name.slice(prefix)] = value;
    found = true;
  }
  if (!found) return { found: false };
  if (fn !== undefined && isMachineType(fn)) return { found: true, state: inspectMachineState(state.machine) };
  return { found: true, state };
}

/** A `fromMachine` function type: its one state is the machine's, and it can inspect it. */
function isMachineType(fn: object): boolean {
  return "machine" in fn && typeof (fn as { inspect?: unknown }).inspect === "function";
}
