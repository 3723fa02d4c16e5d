import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KeyGroupRange } from "../../../src/partition/key-groups.js";
import { DELETED, type KeyedStateEntry, type OperatorListState, type OperatorSnapshot } from "../../../src/state/snapshot.js";
import type { CheckpointMetadata } from "../../../src/state/store/records.js";

/** A fresh folder under the OS temp dir, and a function that removes it. */
export async function tempDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "keyflow-store-"));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** An operator snapshot over prepared entries, as an operator hands one to the store; counts its releases. */
export function snapshotOf(
  uid: string,
  mode: "full" | "incremental",
  keyGroups: KeyGroupRange,
  keyed: Iterable<KeyedStateEntry>,
  operatorState: Record<string, OperatorListState> = {},
): OperatorSnapshot & { readonly releases: number } {
  let releases = 0;
  return {
    uid,
    mode,
    keyGroups,
    keyed,
    operatorState,
    release() {
      releases++;
    },
    get releases() {
      return releases;
    },
  };
}

export function metadataOf(
  id: number,
  operators: Record<string, { parallelism: number; maxParallelism: number }>,
  kind: "checkpoint" | "savepoint" = "checkpoint",
): CheckpointMetadata {
  const described: Record<string, { parallelism: number; maxParallelism: number; shards: number }> = {};
  for (const [uid, info] of Object.entries(operators)) described[uid] = { ...info, shards: info.parallelism };
  return { id, kind, timestamp: 1_700_000_000_000 + id, jobName: "test-job", maxParallelism: 128, operators: described, format: 1 };
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** Keyed state as a test keeps it: one map per checkpoint, keyed by key group, state and key. */
export type StateModel = Map<string, KeyedStateEntry>;

export function modelKey(entry: { keyGroup: number; state: string; key: unknown }): string {
  return `${entry.keyGroup}\u0000${entry.state}\u0000${typeof entry.key}:${String(entry.key)}`;
}

/** Applies a snapshot's entries to a copy of a model: values set, DELETED removes; a full snapshot replaces its range. */
export function applied(
  model: StateModel,
  entries: readonly KeyedStateEntry[],
  mode: "full" | "incremental",
  range?: KeyGroupRange,
): StateModel {
  const next = new Map(model);
  if (mode === "full" && range !== undefined) {
    for (const [key, entry] of next) if (entry.keyGroup >= range.start && entry.keyGroup <= range.end) next.delete(key);
  }
  for (const entry of entries) {
    if (entry.value === DELETED) next.delete(modelKey(entry));
    else next.set(modelKey(entry), entry);
  }
  return next;
}

/** A model's entries of a key-group range, sorted the way `sortedEntries` sorts restored ones. */
export function modelEntries(model: StateModel, range?: KeyGroupRange): KeyedStateEntry[] {
  const entries = [...model.values()].filter(
    (entry) => range === undefined || (entry.keyGroup >= range.start && entry.keyGroup <= range.end),
  );
  return sortedEntries(entries);
}

export function sortedEntries(entries: readonly KeyedStateEntry[]): KeyedStateEntry[] {
  return [...entries]
    .map((entry) => ({ keyGroup: entry.keyGroup, state: entry.state, key: entry.key, value: entry.value }))
    .sort((a, b) => (modelKey(a) < modelKey(b) ? -1 : modelKey(a) > modelKey(b) ? 1 : 0));
}
