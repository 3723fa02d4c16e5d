import type { CheckpointMetadata } from "../checkpoint/checkpoint-storage.js";
import type { ShardSnapshotReport } from "../checkpoint/shard-checkpointing.js";
import { keyOfMapKey } from "../partition/canonical-key.js";
import { type KeyGroupRange, keyGroupOf } from "../partition/key-groups.js";
import { giveBackBuffer } from "../state/column-buffers.js";
import {
  DELETED,
  type InFlightBatch,
  type KeyedColumns,
  type KeyedStateEntry,
  type OperatorListState,
  type OperatorSnapshot,
  type SnapshotColumn,
} from "../state/snapshot.js";
import { columnBuffers } from "../state/store/encode-columns.js";

/**
 * The checkpoint protocol between a leader and its followers, over a CheckpointLink: NATS
 * subjects between the nodes of a static cluster (node 0 leads), or the ports between the main
 * thread and the worker threads of one process (the main thread leads and hosts no shards). The
 * leader runs the coordinator and owns the checkpoint storage, as Flink's JobManager owns
 * checkpoint metadata; the followers' shards ship their snapshots to it and fetch their state
 * from it on restore, so one storage (one LevelDB folder) holds every completed checkpoint.
 */

/** The leader to every follower (down). */
export type DownMessage =
  | {
      readonly type: "trigger";
      readonly id: number;
      readonly timestamp: number;
      readonly savepoint: boolean;
      /** An unaligned checkpoint: barriers overtake queued records, which go into the checkpoint. */
      readonly unaligned?: boolean;
    }
  | { readonly type: "notify"; readonly id: number; readonly completed: boolean };

/** A follower to the leader (up). A shard's entries precede its report, in order, on one connection or port. */
export type UpMessage =
  | {
      readonly type: "entries";
      readonly id: number;
      readonly vertexId: number;
      readonly shardIndex: number;
      readonly uid: string;
      /** Flat: keyGroup, state, key, value, deleted (1 or 0) per entry. */
      readonly entries: unknown[];
    }
  | {
      readonly type: "columns";
      readonly id: number;
      readonly vertexId: number;
      readonly shardIndex: number;
      readonly uid: string;
      /** A slice of state copied at the mark (KeyedColumns), shipped as columns: no entry objects on either side. */
      readonly columns: KeyedColumns;
    }
  | {
      readonly type: "report";
      readonly node: number;
      readonly id: number;
      readonly savepoint: boolean;
      readonly vertexId: number;
      readonly shardIndex: number;
      readonly snapshots: readonly ShippedSnapshot[];
    }
  | {
      readonly type: "declined";
      readonly node: number;
      /** The follower's name ("worker thread 1"); absent: `node <node>`. */
      readonly from?: string;
      readonly id: number;
      readonly reason: string;
    }
  /**
   * The follower's shards handled a notification (transactional sinks committed): a savepoint
   * resolves once every follower said so, so stop-with-savepoint loses no committed result.
   */
  | { readonly type: "notified"; readonly node: number; readonly id: number };

/** An operator snapshot without its entries (they travel before it). */
export interface ShippedSnapshot {
  readonly uid: string;
  readonly mode: "full" | "incremental";
  readonly keyGroups: KeyGroupRange;
  readonly operatorState: Readonly<Record<string, OperatorListState>>;
  readonly stateVersions?: Readonly<Record<string, number>>;
  /** Records in flight into the shard at an unaligned checkpoint (its head operator's snapshot only). */
  readonly inFlight?: readonly InFlightBatch[];
}

/** Restore requests, answered by the leader. */
export type RestoreRequest =
  | { readonly type: "checkpoint" }
  | {
      readonly type: "operatorState";
      readonly uid: string;
      readonly shardIndex: number;
      readonly parallelism: number;
    }
  | {
      readonly type: "keyed";
      readonly uid: string;
      readonly shardIndex: number;
      readonly parallelism: number;
      readonly part: number;
    };

export interface CheckpointReply {
  /** The checkpoint every node restores, or null for a fresh start. */
  readonly checkpoint: CheckpointMetadata | null;
}
export interface OperatorStateReply {
  /** Null when the checkpoint holds nothing for the operator. */
  readonly state: Readonly<Record<string, readonly unknown[]>> | null;
  readonly splits: unknown[] | null;
  /** The version each keyed state was stored at (see OperatorRestore.stateVersions). */
  readonly stateVersions: Readonly<Record<string, number>> | null;
  /** Records in flight into the shard at the unaligned checkpoint restored (when `uid` heads its chain). */
  readonly inFlight?: readonly InFlightBatch[] | null;
}
export interface KeyedPartReply {
  readonly entries: unknown[];
  readonly more: boolean;
}
/** What a request answers when it failed at the leader. */
export interface ErrorReply {
  readonly error: string;
}

/** Entries per `entries` message or keyed restore part: well under NATS's 1 MB payload for small values. */
export const ENTRIES_PER_MESSAGE = 2000;

/** Appends an entry to a flat list; a deletion travels as a flag, since DELETED is a symbol. */
export function flattenEntry(flat: unknown[], entry: KeyedStateEntry): void {
  const deleted = entry.value === DELETED;
  flat.push(entry.keyGroup, entry.state, entry.key, deleted ? null : entry.value, deleted ? 1 : 0);
}

export function unflattenEntries(flat: readonly unknown[], into: KeyedStateEntry[]): void {
  for (let i = 0; i + 4 < flat.length; i += 5) {
    into.push({
      keyGroup: flat[i] as number,
      state: flat[i + 1] as string,
      key: flat[i + 2],
      value: flat[i + 4] === 1 ? DELETED : flat[i + 3],
    });
  }
}

/**
 * Turns a shard's report into messages, reading (and so encoding) every entry now, on the shard's
 * thread: an entry's value may be the operator's live object, which the shard changes once it
 * runs again. Releases the snapshots when done.
 */
export function shipReport(node: number, report: ShardSnapshotReport, send: (message: UpMessage) => void): void {
  const shipped: ShippedSnapshot[] = [];
  try {
    for (const snapshot of report.snapshots) {
      const columnar = snapshot.columnar;
      for (const columns of columnar?.columns ?? []) {
        shipColumns(report, snapshot, columns, send);
        // Sent (msgpack copied the bytes): the arrays can take the next mark's copy.
        for (const buffer of columnBuffers([columns])) giveBackBuffer(buffer);
      }
      let flat: unknown[] = [];
      for (const entry of columnar?.rest ?? snapshot.keyed) {
        flattenEntry(flat, entry);
        if (flat.length >= ENTRIES_PER_MESSAGE * 5) {
          send(entriesMessage(report, snapshot, flat));
          flat = [];
        }
      }
      if (flat.length > 0) send(entriesMessage(report, snapshot, flat));
      shipped.push({
        uid: snapshot.uid,
        mode: snapshot.mode,
        keyGroups: snapshot.keyGroups,
        operatorState: snapshot.operatorState,
        ...(snapshot.stateVersions === undefined ? {} : { stateVersions: snapshot.stateVersions }),
        ...(snapshot.inFlight === undefined ? {} : { inFlight: snapshot.inFlight }),
      });
    }
  } finally {
    for (const snapshot of report.snapshots) snapshot.release();
  }
  send({
    type: "report",
    node,
    id: report.checkpointId,
    savepoint: report.savepoint,
    vertexId: report.vertexId,
    shardIndex: report.shardIndex,
    snapshots: shipped,
  });
}

/** Numbers per `columns` message (keys and values: 800 KB, under NATS's 1 MB payload). */
const NUMBERS_PER_MESSAGE = 50_000;

/** Sends copied columns in slices: numbers as Float64Array views (msgpack copies their bytes), others as arrays. */
function shipColumns(
  report: ShardSnapshotReport,
  snapshot: OperatorSnapshot,
  columns: KeyedColumns,
  send: (message: UpMessage) => void,
): void {
  const { keys, values } = columns;
  const numeric = keys instanceof Float64Array && values instanceof Float64Array;
  const step = numeric ? NUMBERS_PER_MESSAGE : ENTRIES_PER_MESSAGE;
  const slice = (column: SnapshotColumn, from: number, to: number): SnapshotColumn =>
    column instanceof Float64Array ? column.subarray(from, to) : column.slice(from, to);
  for (let from = 0; from < keys.length; from += step) {
    const to = Math.min(keys.length, from + step);
    send({
      type: "columns",
      id: report.checkpointId,
      vertexId: report.vertexId,
      shardIndex: report.shardIndex,
      uid: snapshot.uid,
      columns: { ...columns, keys: slice(keys, from, to), values: slice(values, from, to) },
    });
  }
}

function entriesMessage(report: ShardSnapshotReport, snapshot: OperatorSnapshot, flat: unknown[]): UpMessage {
  return {
    type: "entries",
    id: report.checkpointId,
    vertexId: report.vertexId,
    shardIndex: report.shardIndex,
    uid: snapshot.uid,
    entries: flat,
  };
}

/**
 * Reassembles shipped reports at the leader: entries gather per (checkpoint, shard, operator) until
 * the shard's report arrives, which becomes a report with ordinary snapshots.
 */
export class ReportAssembler {
  private readonly entries = new Map<string, Map<string, KeyedStateEntry[]>>();
  private readonly columns = new Map<string, Map<string, KeyedColumns[]>>();

  addColumns(message: Extract<UpMessage, { type: "columns" }>): void {
    const shardKey = `${message.id}/${message.vertexId}/${message.shardIndex}`;
    let byUid = this.columns.get(shardKey);
    if (byUid === undefined) {
      byUid = new Map();
      this.columns.set(shardKey, byUid);
    }
    let list = byUid.get(message.uid);
    if (list === undefined) {
      list = [];
      byUid.set(message.uid, list);
    }
    list.push(message.columns);
  }

  add(message: Extract<UpMessage, { type: "entries" }>): void {
    const shardKey = `${message.id}/${message.vertexId}/${message.shardIndex}`;
    let byUid = this.entries.get(shardKey);
    if (byUid === undefined) {
      byUid = new Map();
      this.entries.set(shardKey, byUid);
    }
    let list = byUid.get(message.uid);
    if (list === undefined) {
      list = [];
      byUid.set(message.uid, list);
    }
    unflattenEntries(message.entries, list);
  }

  complete(message: Extract<UpMessage, { type: "report" }>): ShardSnapshotReport {
    const shardKey = `${message.id}/${message.vertexId}/${message.shardIndex}`;
    const byUid = this.entries.get(shardKey);
    const columnsByUid = this.columns.get(shardKey);
    this.entries.delete(shardKey);
    this.columns.delete(shardKey);
    return {
      checkpointId: message.id,
      savepoint: message.savepoint,
      vertexId: message.vertexId,
      shardIndex: message.shardIndex,
      snapshots: message.snapshots.map((shipped): OperatorSnapshot => {
        const rest = byUid?.get(shipped.uid) ?? [];
        const columns = columnsByUid?.get(shipped.uid);
        if (columns === undefined) return { ...shipped, keyed: rest, release: () => {} };
        return {
          ...shipped,
          keyed: { [Symbol.iterator]: () => allEntries(columns, rest) },
          columnar: { columns, rest },
          release: () => {},
        };
      }),
    };
  }

  /** Drops what was gathered for a checkpoint that ended (completed or aborted). */
  forget(checkpointId: number): void {
    for (const key of this.entries.keys()) if (key.startsWith(`${checkpointId}/`)) this.entries.delete(key);
    for (const key of this.columns.keys()) if (key.startsWith(`${checkpointId}/`)) this.columns.delete(key);
  }
}

/** Shipped columns as entries, then the rest: for a storage that reads `keyed` only. */
function* allEntries(columns: readonly KeyedColumns[], rest: readonly KeyedStateEntry[]): Generator<KeyedStateEntry> {
  for (const { state, maxParallelism, keys, values } of columns) {
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      yield { keyGroup: keyGroupOf(keyOfMapKey(key), maxParallelism), state, key, value: values[i] };
    }
  }
  yield* rest;
}
