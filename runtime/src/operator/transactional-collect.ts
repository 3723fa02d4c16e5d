import type { OperatorSnapshot } from "../state/snapshot.js";
import type { ResultCollector } from "./operator.js";

/** One checkpoint's records, waiting for the checkpoint to complete. */
interface Transaction {
  readonly id: string;
  readonly checkpointId: number;
  readonly records: unknown[];
}

const TRANSACTIONS_STATE = "collect-transactions";

/**
 * A collect sink with exactly-once results under checkpoints (two-phase commit, as Flink's
 * TwoPhaseCommitSinkFunction): records between two barriers form a transaction; at barrier n it
 * is pre-committed (kept in the checkpoint's state), and committed into the job's result when
 * checkpoint n completes. A failure drops what was not committed; recovery commits the
 * transactions of the checkpoint it restores (the result ignores a transaction added twice).
 * At the end of input everything left is committed.
 */
export class TransactionalCollect {
  private current: unknown[] = [];
  private readonly staged: Transaction[] = [];

  constructor(
    private readonly results: ResultCollector,
    private readonly sink: string,
    private readonly uid: string,
    private readonly shardIndex: number,
  ) {}

  write(value: unknown): void {
    this.current.push(value);
  }

  snapshot(checkpointId: number, keyGroups: OperatorSnapshot["keyGroups"]): OperatorSnapshot {
    this.staged.push({
      id: `${this.sink}/${this.uid}/${this.shardIndex}/${checkpointId}`,
      checkpointId,
      records: this.current,
    });
    this.current = [];
    return {
      uid: this.uid,
      mode: "full",
      keyGroups,
      keyed: [],
      operatorState: { [TRANSACTIONS_STATE]: { distribution: "split", items: [...this.staged] } },
      release() {},
    };
  }

  /** Commits every transaction of checkpoints up to `checkpointId` (an aborted one rides with the next). */
  checkpointComplete(checkpointId: number): void {
    while (this.staged.length > 0 && (this.staged[0] as Transaction).checkpointId <= checkpointId) {
      const transaction = this.staged.shift() as Transaction;
      this.results.add(this.sink, this.shardIndex, transaction.records, transaction.id);
    }
  }

  /** Commits the transactions a restored checkpoint pre-committed. */
  restore(operatorState: Readonly<Record<string, readonly unknown[]>>): void {
    for (const item of operatorState[TRANSACTIONS_STATE] ?? []) {
      const transaction = item as Transaction;
      this.results.add(this.sink, this.shardIndex, transaction.records, transaction.id);
    }
  }

  /**
   * End of this shard's input: the records since the last barrier become the last transaction,
   * pre-committed like the others (a checkpoint taken after this shard finished carries it).
   */
  finish(): void {
    this.staged.push({
      id: `${this.sink}/${this.uid}/${this.shardIndex}/final`,
      checkpointId: Number.MAX_SAFE_INTEGER,
      records: this.current,
    });
    this.current = [];
  }

  /** The whole job finished: nothing can restore an earlier checkpoint any more; commit everything. */
  commitAll(): void {
    this.checkpointComplete(Number.POSITIVE_INFINITY);
  }
}
