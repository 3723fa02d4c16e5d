import {
  type AnyFunctionType,
  inspectMachineState,
  type MachineInspection,
  type MachineState,
} from "@keyflow/functions-sdk";
import type { CheckpointMetadata, CheckpointStorage } from "../checkpoint/checkpoint-storage.js";
import { keyGroupOf } from "../partition/key-groups.js";

/** Which function state to read, and where. */
export interface FunctionStateQuery {
  /** The functions operator's uid (`toFunctions(...).uid("carts")`). */
  readonly uid: string;
  /** The function type, or its name. */
  readonly functionType: AnyFunctionType | string;
  /** The address id (the key). */
  readonly id: string;
  /** The checkpoint to read; default: the storage's newest completed one. */
  readonly checkpoint?: CheckpointMetadata;
}

/**
 * One address's declared state in a checkpoint or savepoint: `{ <name>: value }` for each state
 * the key has (a map state as its `Map`, a list as its array), or undefined when the checkpoint
 * holds none for it (no checkpoint, an operator it does not hold, or a key with no state). Reads
 * only the key's key group. Read-only; the job may go on running and writing checkpoints.
 *
 * ```ts
 * const state = await readFunctionState(store, { uid: "carts", functionType: cart, id: "c1" });
 * ```
 *
 * This is the checkpoint half of queryable state; the live half (NATS request/reply to the shard
 * owning the key group, or in-process when embedded) will read the same `<type>/<name>` entries
 * from the shard's KeyedStateBackend and return the same shape.
 */
export async function readFunctionState(
  storage: CheckpointStorage,
  query: FunctionStateQuery,
): Promise<Record<string, unknown> | undefined> {
  const checkpoint = query.checkpoint ?? (await storage.latestCompleted());
  const info = checkpoint?.operators[query.uid];
  if (checkpoint === undefined || info === undefined) return undefined;
  const type = typeof query.functionType === "string" ? query.functionType : query.functionType.type;
  const prefix = `${type}/`;
  const keyGroup = keyGroupOf(query.id, info.maxParallelism);
  let found: Record<string, unknown> | undefined;
  for await (const entry of storage.restoreKeyed(checkpoint.id, query.uid, { start: keyGroup, end: keyGroup })) {
    if (entry.key !== query.id || !entry.state.startsWith(prefix)) continue;
    found ??= {};
    found[entry.state.slice(prefix.length)] = entry.value;
  }
  return found;
}

/**
 * The machine of one address of a `fromMachine` function type in a checkpoint or savepoint:
 * `{ value, context, status, output, delayed }`, or undefined when the key has no machine yet.
 */
export async function inspectMachineInCheckpoint(
  storage: CheckpointStorage,
  query: FunctionStateQuery,
): Promise<MachineInspection | undefined> {
  const state = await readFunctionState(storage, query);
  return inspectMachineState(state?.machine as MachineState | undefined);
}
