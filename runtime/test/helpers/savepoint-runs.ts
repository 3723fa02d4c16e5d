import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { JobDefinition } from "@keyflow/functions-sdk";
import { type CheckpointMetadata, CheckpointStore, execute, type JobControl, type JobResult } from "../../src/index.js";

/**
 * Runs of successive versions of a job against one real LevelDB checkpoint store in a temp
 * folder: each run starts from the previous run's savepoint and is stopped with a savepoint of
 * its own once its keyed function has processed a known number of records, so what the
 * savepoint holds does not depend on timing.
 */
export class SavepointRuns {
  private constructor(
    readonly dir: string,
    private current: CheckpointStore,
  ) {}

  get store(): CheckpointStore {
    return this.current;
  }

  /** Closes the store, lets `change` work on its folder (raw LevelDB edits), and opens it again. */
  async reopen(change: (dir: string) => Promise<void>): Promise<void> {
    await this.current.close();
    await change(this.dir);
    this.current = await CheckpointStore.open(this.dir);
  }

  static async open(): Promise<SavepointRuns> {
    const dir = await mkdtemp(join(tmpdir(), "keyflow-evolution-"));
    return new SavepointRuns(dir, await CheckpointStore.open(dir));
  }

  /**
   * Runs `job` (from `from`, when given) until `processed()` reaches `target`, then stops it with
   * a savepoint. The job's sources are unbounded; its keyed function counts what it processed.
   */
  async runToSavepoint(
    job: JobDefinition,
    processed: () => number,
    target: number,
    from?: CheckpointMetadata,
  ): Promise<{ result: JobResult; savepoint: CheckpointMetadata }> {
    let control: JobControl | undefined;
    const run = this.start(job, from, (c) => {
      control = c;
    });
    // A restore that fails ends the run before the target is reached: report that, not a timeout.
    let ended = false;
    const settled = run.finally(() => {
      ended = true;
    });
    while (processed() < target && !ended) await new Promise((resolve) => setTimeout(resolve, 5));
    if (ended) await settled;
    const savepoint = await (control as JobControl).stopWithSavepoint();
    const result = await settled;
    return { result, savepoint };
  }

  /** Runs `job` from `from` to its end (or its failure). */
  run(job: JobDefinition, from: CheckpointMetadata): Promise<JobResult> {
    return this.start(job, from, () => {});
  }

  private start(
    job: JobDefinition,
    from: CheckpointMetadata | undefined,
    onControl: (control: JobControl) => void,
  ): Promise<JobResult> {
    return execute(job, {
      workers: 0,
      batchSize: 50,
      // Long enough that only the savepoint matters; it still exercises the store's chains.
      checkpoints: { intervalMs: 60_000, storage: this.current },
      restartStrategy: { kind: "none" },
      onControl,
      // The sources of each version have their own uids: the old one's position is dropped.
      allowNonRestoredState: true,
      ...(from === undefined ? {} : { fromSavepoint: from }),
    });
  }

  async close(): Promise<void> {
    await this.current.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}
