import type { CheckpointCoordinator } from "../checkpoint/checkpoint-coordinator.js";
import type { CheckpointMetadata } from "../checkpoint/checkpoint-storage.js";
import type { CoordinatorState } from "../checkpoint/coordinator-machine.js";

/**
 * What a checkpointed job is doing, as `JobControl.status()` and `keyflow status DIR` show it:
 * whether a run is going, how many runs the restarts made, the checkpoint coordinator's state
 * (its xstate machine) and its counts, the latest completed checkpoint, and the last failure.
 * JSON values only, so the control socket sends it as it is.
 */
export interface JobStatus {
  readonly job: string;
  /**
   * "starting": a run is being built (restoring its state); "running"; "restarting": a run failed
   * and the next one waits for its delay; "ended": finished, stopped, cancelled or failed for good.
   */
  readonly state: "starting" | "running" | "restarting" | "ended";
  /** Runs started by this process: 1 for the first, one more for each restart. */
  readonly runs: number;
  /** The running run's checkpoint coordinator; "stopped" when no run is going. */
  readonly coordinator: CoordinatorState;
  /** Checkpoints and savepoints of this process: in flight now, completed and aborted since it started. */
  readonly checkpoints: { readonly inFlight: number; readonly completed: number; readonly aborted: number };
  /** The latest completed checkpoint or savepoint (the one a run restored counts too). */
  readonly latest?: CheckpointSummary;
  /** What the latest run started from, when it restored one. */
  readonly restoredFrom?: CheckpointSummary;
  /** The error of the last failure that ended a run (restarted or not). */
  readonly lastFailure?: string;
}

export interface CheckpointSummary {
  readonly id: number;
  readonly kind: "checkpoint" | "savepoint";
  /** When it was triggered, in ms since the epoch. */
  readonly timestamp: number;
}

/** Keeps a checkpointed job's status across its runs. Thread: the thread that leads the checkpoints. */
export class JobStatusTracker {
  private state: JobStatus["state"] = "starting";
  private runs = 0;
  private coordinator: CheckpointCoordinator | undefined;
  /** Counts of the coordinators of runs that ended. */
  private completedBefore = 0;
  private abortedBefore = 0;
  private latest: CheckpointMetadata | undefined;
  private restoredFrom: CheckpointMetadata | undefined;
  private lastFailure: string | undefined;

  constructor(private readonly job: string) {}

  /** A run is being built, from `from` when it restores one. */
  runStarting(from: CheckpointMetadata | undefined): void {
    this.state = "starting";
    this.runs++;
    this.restoredFrom = from;
    if (from !== undefined && (this.latest === undefined || from.id > this.latest.id)) this.latest = from;
  }

  /** The run's shards run; `coordinator` checkpoints it (none: a job without checkpoints). */
  runStarted(coordinator: CheckpointCoordinator | undefined): void {
    this.coordinator = coordinator;
    this.state = "running";
  }

  /** The run ended (its coordinator stopped); `failure` when it failed. */
  runEnded(failure?: string): void {
    const coordinator = this.coordinator;
    if (coordinator !== undefined) {
      this.completedBefore += coordinator.counts.completed;
      this.abortedBefore += coordinator.counts.aborted;
      this.latest = coordinator.latest ?? this.latest;
      this.coordinator = undefined;
    }
    if (failure !== undefined) this.lastFailure = failure;
  }

  restarting(): void {
    this.state = "restarting";
  }

  ended(): void {
    this.runEnded();
    this.state = "ended";
  }

  status(): JobStatus {
    const counts = this.coordinator?.counts;
    const latest = this.coordinator?.latest ?? this.latest;
    return {
      job: this.job,
      state: this.state,
      runs: this.runs,
      coordinator: this.coordinator?.state ?? "stopped",
      checkpoints: {
        inFlight: counts?.inFlight ?? 0,
        completed: this.completedBefore + (counts?.completed ?? 0),
        aborted: this.abortedBefore + (counts?.aborted ?? 0),
      },
      ...(latest === undefined ? {} : { latest: summary(latest) }),
      ...(this.restoredFrom === undefined ? {} : { restoredFrom: summary(this.restoredFrom) }),
      ...(this.lastFailure === undefined ? {} : { lastFailure: this.lastFailure }),
    };
  }
}

function summary(metadata: CheckpointMetadata): CheckpointSummary {
  return { id: metadata.id, kind: metadata.kind, timestamp: metadata.timestamp };
}
