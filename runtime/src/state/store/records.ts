import type { KeyGroupRange } from "../../partition/key-groups.js";
import type { InFlightBatch, OperatorListState } from "../snapshot.js";

/**
 * The store format this version writes; written once per store and in every checkpoint's
 * metadata. Format 2 added `stateVersions` to shard manifests, format 3 the in-flight records of
 * unaligned checkpoints (`inFlight`); this version still reads formats 1 and 2 and upgrades an
 * older store's record at open, so older readers, which would ignore versions or in-flight
 * records, refuse the store instead. See runtime/docs/checkpoint-format.md.
 */
export const STORE_FORMAT = 3;

/** The formats this version reads. */
export type StoreFormat = 1 | 2 | 3;

export function isReadableFormat(format: unknown): format is StoreFormat {
  return format === 1 || format === 2 || format === 3;
}

/**
 * What a completed checkpoint (or savepoint) is: written by `CheckpointStore.complete` in the same
 * LevelDB batch that makes the checkpoint visible. Operators are keyed by uid.
 *
 * @example
 * await store.complete({
 *   id: 7, kind: "checkpoint", timestamp: clock.now(), jobName: "fraud", maxParallelism: 128,
 *   operators: { "sum-per-key": { parallelism: 2, maxParallelism: 128, shards: 2 } }, format: STORE_FORMAT,
 * });
 */
export interface CheckpointMetadata {
  readonly id: number;
  /** A savepoint is taken on request and never removed by retention. */
  readonly kind: "checkpoint" | "savepoint";
  /** When the checkpoint was triggered, in the coordinator's clock (epoch ms). */
  readonly timestamp: number;
  readonly jobName: string;
  /** The job's default max parallelism (operators carry their own). */
  readonly maxParallelism: number;
  readonly operators: Readonly<Record<string, OperatorCheckpointInfo>>;
  /** The format of the store version that wrote it (1: its manifests have no state versions). */
  readonly format: StoreFormat;
  /** Whatever else the coordinator keeps with a checkpoint (trigger reason, restart count): msgpack-encodable. */
  readonly extra?: Readonly<Record<string, unknown>>;
}

export interface OperatorCheckpointInfo {
  /** The operator's parallelism when the checkpoint was taken. */
  readonly parallelism: number;
  readonly maxParallelism: number;
  /** Number of shard snapshots written (shards 0..shards-1); equals parallelism for a whole job. */
  readonly shards: number;
}

/** What one shard of one operator wrote for a checkpoint: key groups, mode, list state, sizes. */
export interface ShardManifest {
  readonly uid: string;
  readonly shardIndex: number;
  readonly mode: "full" | "incremental";
  readonly keyGroups: KeyGroupRange;
  readonly operatorState: Readonly<Record<string, OperatorListState>>;
  readonly entries: number;
  readonly bytes: number;
  readonly blocks: number;
  /**
   * The schema version of each keyed state the operator declared when it wrote this (format 2);
   * absent in format 1, where every state is at version 1. Every record of a key group's chain
   * holds values of these versions: a restore that migrates a state makes the next snapshot full.
   */
  readonly stateVersions?: Readonly<Record<string, number>>;
  /**
   * Records in flight into this shard at an unaligned checkpoint (format 3; only in the manifest of
   * the head operator of a shard with inputs): replayed into it, in order, before its inputs.
   */
  readonly inFlight?: readonly InFlightBatch[];
}

/**
 * One key group's part of a checkpoint (kind 0) or a base the store compacted (kind 1): the number
 * of blocks (keys seq 0..blocks-1), entries and bytes in them, whether it replaces everything older
 * (a full snapshot or a base), and `prev`, the id of the newest completed record of this key group
 * older than this one when it was written (-1: none). Restores follow `prev` to prove that no
 * checkpoint a chain builds on is missing.
 */
export interface GroupRecord {
  readonly blocks: number;
  readonly entries: number;
  readonly bytes: number;
  readonly full: boolean;
  readonly prev: number;
  /** False while a base is being written; a base left incomplete by a crash is removed at open. */
  readonly complete: boolean;
}

/** Checks a decoded metadata record; returns a description of what is wrong, or undefined. */
export function metadataProblem(value: unknown, id: number): string | undefined {
  if (!isObject(value)) return "metadata is not an object";
  if (value.id !== id) return `metadata names checkpoint ${String(value.id)}`;
  if (value.kind !== "checkpoint" && value.kind !== "savepoint") return `unknown kind ${String(value.kind)}`;
  if (!isReadableFormat(value.format)) return `format ${String(value.format)} is not one of 1..${STORE_FORMAT}`;
  if (typeof value.timestamp !== "number" || typeof value.jobName !== "string") return "no timestamp or job name";
  if (!isCount(value.maxParallelism)) return "no max parallelism";
  if (!isObject(value.operators)) return "no operators";
  for (const [uid, info] of Object.entries(value.operators)) {
    if (!isObject(info) || !isCount(info.parallelism) || !isCount(info.maxParallelism) || !isCount(info.shards)) {
      return `operator "${uid}" has malformed parallelism`;
    }
    if (info.maxParallelism > 0x1_0000) return `operator "${uid}" has max parallelism above 65536`;
  }
  return undefined;
}

export function manifestProblem(value: unknown, uid: string, shard: number): string | undefined {
  if (!isObject(value)) return "manifest is not an object";
  if (value.uid !== uid || value.shardIndex !== shard) return "manifest names another shard";
  if (value.mode !== "full" && value.mode !== "incremental") return `unknown mode ${String(value.mode)}`;
  const range = value.keyGroups;
  if (!isObject(range) || !isIndex(range.start) || !isIndex(range.end) || range.end < range.start) {
    return "manifest has a malformed key-group range";
  }
  if (!isObject(value.operatorState)) return "manifest has no list state";
  for (const list of Object.values(value.operatorState)) {
    if (
      !isObject(list) ||
      !Array.isArray(list.items) ||
      (list.distribution !== "split" && list.distribution !== "union")
    ) {
      return "manifest has malformed list state";
    }
  }
  if (!isIndex(value.entries) || !isIndex(value.bytes) || !isIndex(value.blocks)) return "manifest has malformed sizes";
  if (value.stateVersions !== undefined) {
    if (!isObject(value.stateVersions) || !Object.values(value.stateVersions).every(isCount)) {
      return "manifest has malformed state versions";
    }
  }
  if (value.inFlight !== undefined) {
    if (!Array.isArray(value.inFlight) || !value.inFlight.every(isInFlightBatch)) {
      return "manifest has malformed in-flight records";
    }
  }
  return undefined;
}

function isInFlightBatch(value: unknown): boolean {
  if (!isObject(value) || !isIndex(value.input) || !Array.isArray(value.values)) return false;
  const timestamps = value.timestamps;
  return (
    timestamps === undefined ||
    timestamps === null ||
    (Array.isArray(timestamps) && timestamps.length === value.values.length)
  );
}

export function groupProblem(value: unknown): string | undefined {
  if (!isObject(value)) return "key group record is not an object";
  if (!isIndex(value.blocks) || !isIndex(value.entries) || !isIndex(value.bytes)) return "malformed sizes";
  if (typeof value.full !== "boolean" || typeof value.complete !== "boolean") return "malformed flags";
  if (!Number.isInteger(value.prev) || (value.prev as number) < -1) return "malformed prev";
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 1;
}

function isIndex(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0;
}
