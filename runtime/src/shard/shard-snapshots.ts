import type { OperatorNode, SourceReader } from "@keyflow/functions-sdk";
import { SourceNotCheckpointableError } from "../checkpoint/errors.js";
import type { RecordedCheckpoint } from "../checkpoint/in-flight-recorder.js";
import { type ShardCheckpointing, SOURCE_SPLITS_STATE } from "../checkpoint/shard-checkpointing.js";
import { UserFunctionError } from "../operator/errors.js";
import type { StreamOperator } from "../operator/operator.js";
import { keyGroupRangeOf } from "../partition/key-groups.js";
import type { ExecutionPlan, PlanVertex } from "../plan/execution-plan.js";
import type { InFlightBatch, OperatorSnapshot } from "../state/snapshot.js";

/** What a shard tells its snapshots about itself. */
export interface ShardSnapshotsContext {
  /** `<vertex>#<index>`, for errors. */
  readonly name: string;
  readonly plan: ExecutionPlan;
  readonly vertex: PlanVertex;
  readonly index: number;
  readonly nodes: readonly OperatorNode[];
  readonly checkpointing: ShardCheckpointing;
  /** The chain's operators, tail first (as the shard keeps them). */
  readonly operators: readonly StreamOperator[];
  /** The source of a source shard (its node and reader), once wired. */
  source(): { readonly node: OperatorNode; readonly reader: SourceReader<unknown> } | undefined;
}

/**
 * A shard's part in checkpoints once a barrier is through: it takes the chain's snapshots (a
 * source's split positions first), waits for operators that complete theirs later (see
 * StreamOperator.completeSnapshot), and reports them to the host, with the records that were in
 * flight into the shard for an unaligned checkpoint; and, before the shard opens, it restores the
 * chain from the host's checkpoint. How barriers travel and align stays with the Shard.
 */
export class ShardSnapshots {
  /** Whether a snapshot was taken since the shard started: its first one is full, later ones incremental. */
  private taken = false;
  /**
   * Checkpoints whose snapshot an operator of the chain completes later, by id: how many
   * operators it waits for, and the report to make once they are done.
   */
  private readonly completing = new Map<number, { waiting: number; report: (() => void) | undefined }>();

  constructor(private readonly shard: ShardSnapshotsContext) {}

  /** Takes checkpoint `checkpointId`'s snapshots and reports them once whole (with empty in-flight records when `emptyInFlight`). */
  take(checkpointId: number, savepoint: boolean, emptyInFlight = false): void {
    const taken = this.snapshots(checkpointId, savepoint);
    this.whenWhole(checkpointId, () => {
      // A finished shard with inputs writes (empty) in-flight records like its running siblings.
      const snapshots = emptyInFlight ? this.withInFlight(taken, []) : taken;
      this.report(checkpointId, savepoint, snapshots);
    });
  }

  /** Every stateful operator's snapshot (a source's split positions first), to report later (an unaligned checkpoint's). */
  snapshots(checkpointId: number, savepoint: boolean): OperatorSnapshot[] {
    const mode = savepoint || !this.taken ? "full" : "incremental";
    const snapshots: OperatorSnapshot[] = [];
    const splits = this.sourceSplits();
    if (splits !== undefined) snapshots.push(splits);
    for (const operator of this.shard.operators) {
      const snapshot = operator.snapshotState?.(checkpointId, mode);
      if (snapshot === undefined) continue;
      const at = snapshots.push(snapshot) - 1;
      if (operator.completeSnapshot === undefined) continue;
      let pending = this.completing.get(checkpointId);
      if (pending === undefined) {
        pending = { waiting: 0, report: undefined };
        this.completing.set(checkpointId, pending);
      }
      const waiting = pending;
      waiting.waiting++;
      operator.completeSnapshot(checkpointId, snapshot, (whole) => {
        snapshots[at] = whole;
        // Not in the map any more: the shard failed or was cancelled, and reports nothing.
        if (--waiting.waiting > 0 || this.completing.get(checkpointId) !== waiting) return;
        this.completing.delete(checkpointId);
        waiting.report?.();
      });
    }
    this.taken = true;
    return snapshots;
  }

  /** Reports unaligned checkpoints whose in-flight records are complete: they go with the head operator's snapshot. */
  reportRecorded(recorded: readonly RecordedCheckpoint[]): void {
    for (const { checkpointId, snapshots, inFlight } of recorded) {
      this.whenWhole(checkpointId, () => this.report(checkpointId, false, this.withInFlight(snapshots, inFlight)));
    }
  }

  /** The shard stops (failed or cancelled): snapshots still waiting for an operator are never reported. */
  drop(): void {
    this.completing.clear();
  }

  /**
   * Restores each stateful operator from the host's checkpoint, before it opens; returns the
   * records that were in flight into the shard at the unaligned checkpoint restored, when the
   * shard has inputs (they are processed before anything from the inputs).
   */
  async restore(hasInputs: boolean): Promise<readonly InFlightBatch[]> {
    const { checkpointing, vertex, index, nodes, operators } = this.shard;
    let recovered: readonly InFlightBatch[] = [];
    if (hasInputs) {
      const uid = (nodes[vertex.head.id] as OperatorNode).uid;
      recovered = checkpointing.restoredInFlight?.(uid, index, vertex.parallelism) ?? [];
    }
    for (const operator of operators) {
      if (operator.restoreState === undefined) continue;
      const restore = checkpointing.restoreFor(operator.node.uid, index, vertex.parallelism);
      if (restore !== undefined) await operator.restoreState(restore);
    }
    return recovered;
  }

  private report(checkpointId: number, savepoint: boolean, snapshots: OperatorSnapshot[]): void {
    this.shard.checkpointing.onSnapshot({
      checkpointId,
      savepoint,
      vertexId: this.shard.vertex.id,
      shardIndex: this.shard.index,
      snapshots,
    });
  }

  /** Runs `report` once every operator's part of checkpoint `checkpointId` is whole (at once when none waits). */
  private whenWhole(checkpointId: number, report: () => void): void {
    const pending = this.completing.get(checkpointId);
    if (pending === undefined || pending.waiting === 0) report();
    else pending.report = report;
  }

  /**
   * The head operator's snapshot carrying `inFlight` (one made for it when it has no state), so
   * every shard of the vertex writes a manifest for it and the records restore with its state.
   */
  private withInFlight(snapshots: OperatorSnapshot[], inFlight: readonly InFlightBatch[]): OperatorSnapshot[] {
    const { plan, vertex, index, nodes } = this.shard;
    const uid = (nodes[vertex.head.id] as OperatorNode).uid;
    const at = snapshots.findIndex((snapshot) => snapshot.uid === uid);
    const own = snapshots[at];
    const maxParallelism = plan.parallelismOf.get(vertex.head.id)?.maxParallelism ?? 128;
    const carrying: OperatorSnapshot =
      own === undefined
        ? {
            uid,
            mode: "full",
            keyGroups: keyGroupRangeOf(index, maxParallelism, vertex.parallelism),
            keyed: [],
            operatorState: {},
            inFlight,
            release() {},
          }
        : {
            uid,
            mode: own.mode,
            keyGroups: own.keyGroups,
            keyed: own.keyed,
            ...(own.columnar === undefined ? {} : { columnar: own.columnar }),
            operatorState: own.operatorState,
            ...(own.stateVersions === undefined ? {} : { stateVersions: own.stateVersions }),
            inFlight,
            release: () => own.release(),
          };
    return own === undefined ? [...snapshots, carrying] : snapshots.map((s, i) => (i === at ? carrying : s));
  }

  private sourceSplits(): OperatorSnapshot | undefined {
    const source = this.shard.source();
    if (source === undefined) return undefined;
    const { node, reader } = source;
    if (reader.snapshotSplits === undefined) throw new SourceNotCheckpointableError(node.name);
    let items: unknown[];
    try {
      items = reader.snapshotSplits();
    } catch (error) {
      throw UserFunctionError.of(node.name, this.shard.name, "(snapshot splits)", error);
    }
    const { plan, vertex, index } = this.shard;
    const maxParallelism = plan.parallelismOf.get(node.id)?.maxParallelism ?? 128;
    return {
      uid: node.uid,
      mode: "full",
      keyGroups: keyGroupRangeOf(index, maxParallelism, vertex.parallelism),
      keyed: [],
      operatorState: { [SOURCE_SPLITS_STATE]: { distribution: "split", items } },
      release() {},
    };
  }
}
