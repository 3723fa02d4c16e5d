import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Level } from "level";
import { type KeyGroupRange, keyGroupOf, keyGroupRangeOf } from "../../../src/partition/key-groups.js";
import {
  DELETED,
  type KeyedStateEntry,
  type OperatorListState,
  type OperatorSnapshot,
} from "../../../src/state/snapshot.js";
import type { CheckpointStore } from "../../../src/state/store/checkpoint-store.js";
import {
  parseCheckpointKey,
  TAG_BLOCK,
  TAG_GROUP,
  TAG_MANIFEST,
  TAG_METADATA,
  TAG_SETTLED,
} from "../../../src/state/store/keys.js";
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
  return {
    id,
    kind,
    timestamp: 1_700_000_000_000 + id,
    jobName: "test-job",
    maxParallelism: 128,
    operators: described,
    format: 1,
  };
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

export interface RecordCounts {
  metadata: number;
  settled: number;
  manifests: number;
  groups: number;
  blocks: number;
  /** Every LevelDB record, the format record included. */
  total: number;
  /** Checkpoint ids that have any record. */
  ids: number[];
}

/** Counts the records of a closed store's LevelDB folder by kind, reading LevelDB directly. */
export async function countRecords(dir: string): Promise<RecordCounts> {
  const db = new Level<Buffer, Buffer>(dir, { keyEncoding: "buffer", valueEncoding: "buffer" });
  await db.open({ createIfMissing: false });
  const counts: RecordCounts = { metadata: 0, settled: 0, manifests: 0, groups: 0, blocks: 0, total: 0, ids: [] };
  const ids = new Set<number>();
  try {
    for await (const key of db.keys()) {
      counts.total++;
      const parsed = parseCheckpointKey(key);
      if (parsed === undefined) continue;
      ids.add(parsed.id);
      if (parsed.tag === TAG_METADATA) counts.metadata++;
      else if (parsed.tag === TAG_SETTLED) counts.settled++;
      else if (parsed.tag === TAG_MANIFEST) counts.manifests++;
      else if (parsed.tag === TAG_GROUP) counts.groups++;
      else if (parsed.tag === TAG_BLOCK) counts.blocks++;
    }
  } finally {
    await db.close();
  }
  counts.ids = [...ids].sort((a, b) => a - b);
  return counts;
}

/** Runs `change` on the raw LevelDB of a closed store (to damage it the way a disk or a person would). */
export async function withRawDb(dir: string, change: (db: Level<Buffer, Buffer>) => Promise<void>): Promise<void> {
  const db = new Level<Buffer, Buffer>(dir, { keyEncoding: "buffer", valueEncoding: "buffer" });
  await db.open({ createIfMissing: false });
  try {
    await change(db);
  } finally {
    await db.close();
  }
}

/** A seeded generator of numbers in [0, 1), so a test's checkpoints are the same on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

export function rangeHas(range: KeyGroupRange, keyGroup: number): boolean {
  return keyGroup >= range.start && keyGroup <= range.end;
}

/**
 * Changes to keyed state between two checkpoints: `updates` values set (new or existing keys of a
 * `keys`-key domain, over two states) and `deletes` existing entries removed, each (state, key) at
 * most once, with real key groups.
 */
export function randomChanges(
  random: () => number,
  before: StateModel,
  options: { keys: number; updates: number; deletes: number; maxParallelism: number; version: number },
): KeyedStateEntry[] {
  const changes = new Map<string, KeyedStateEntry>();
  const existing = [...before.values()];
  for (let i = 0; i < options.deletes && existing.length > 0; i++) {
    const victim = existing[Math.floor(random() * existing.length)];
    changes.set(modelKey(victim), { ...victim, value: DELETED });
  }
  for (let i = 0; i < options.updates; i++) {
    const key = `k${Math.floor(random() * options.keys)}`;
    const state = random() < 0.7 ? "count" : "seen";
    const entry = { keyGroup: keyGroupOf(key, options.maxParallelism), state, key, value: { v: options.version, i } };
    changes.set(modelKey(entry), entry);
  }
  return [...changes.values()];
}

/**
 * Writes checkpoint `id` of operator `uid` as `parallelism` shards would (each shard `modes[s]`,
 * default the first mode), from the state before it and the changes since, completes it, and
 * returns the state at it.
 */
export async function writeCheckpoint(
  store: CheckpointStore,
  options: {
    id: number;
    uid: string;
    maxParallelism: number;
    parallelism: number;
    modes: readonly ("full" | "incremental")[];
    before: StateModel;
    changes: readonly KeyedStateEntry[];
    kind?: "checkpoint" | "savepoint";
  },
): Promise<StateModel> {
  const after = applied(options.before, options.changes, "incremental");
  for (let shard = 0; shard < options.parallelism; shard++) {
    const range = keyGroupRangeOf(shard, options.maxParallelism, options.parallelism);
    const mode = options.modes[shard] ?? options.modes[0];
    const entries =
      mode === "full" ? modelEntries(after, range) : options.changes.filter((entry) => rangeHas(range, entry.keyGroup));
    await store.writeSnapshot(options.id, shard, snapshotOf(options.uid, mode, range, entries));
  }
  const operators = { [options.uid]: { parallelism: options.parallelism, maxParallelism: options.maxParallelism } };
  await store.complete(metadataOf(options.id, operators, options.kind));
  return after;
}

/** The whole keyed state of `uid` at checkpoint `id`, restored range by range at `parallelism`, sorted. */
export async function restoredAt(
  store: CheckpointStore,
  id: number,
  uid: string,
  maxParallelism: number,
  parallelism: number,
): Promise<KeyedStateEntry[]> {
  const all: KeyedStateEntry[] = [];
  for (let shard = 0; shard < parallelism; shard++) {
    const range = keyGroupRangeOf(shard, maxParallelism, parallelism);
    for await (const entry of store.restoreKeyed(id, uid, range)) {
      if (!rangeHas(range, entry.keyGroup))
        throw new Error(`key group ${entry.keyGroup} restored outside ${range.start}..${range.end}`);
      all.push(entry);
    }
  }
  return sortedEntries(all);
}
