import { KeyflowError } from "@keyflow/functions-sdk";
import type { SerializedError } from "../util/serialized-error.js";

/** The options of a static node do not describe a place in a cluster. Terminal. */
export class InvalidNodeOptionsError extends KeyflowError {
  readonly code = "CLUSTER_INVALID_OPTIONS";
  constructor(problem: string) {
    super(`static node: ${problem}`);
  }
}

/**
 * Another node of the job failed; `reason` is its error as it crossed NATS, naming the
 * operator, shard and record when a user function threw. Terminal for this run.
 */
export class PeerFailedError extends KeyflowError {
  readonly code = "CLUSTER_PEER_FAILED";
  readonly operator: string | undefined;
  readonly shard: string | undefined;
  readonly record: string | undefined;
  constructor(
    readonly node: number,
    readonly reason: SerializedError,
  ) {
    super(`node ${node} failed: ${reason.message}`);
    this.operator = reason.details.operator;
    this.shard = reason.details.shard;
    this.record = reason.details.record;
  }
}

/** Another node of the job was cancelled, which cancels the whole job. */
export class PeerCancelledError extends KeyflowError {
  readonly code = "CLUSTER_PEER_CANCELLED";
  constructor(readonly node: number) {
    super(`node ${node} cancelled the job`);
  }
}

/** A node that was running went silent: no status for longer than the peer timeout. Retriable. */
export class PeerLostError extends KeyflowError {
  readonly code = "CLUSTER_PEER_LOST";
  override readonly retriable = true;
  constructor(
    readonly node: number,
    readonly silentMs: number,
  ) {
    super(`node ${node} sent no status for ${Math.round(silentMs)} ms; it is presumed dead`);
  }
}

/**
 * Two nodes of one job computed different execution plans (another job module, parallelism or
 * node count), so their channels would not match. Terminal.
 */
export class PlanMismatchError extends KeyflowError {
  readonly code = "CLUSTER_PLAN_MISMATCH";
  constructor(
    readonly node: number,
    readonly ours: string,
    readonly theirs: string,
  ) {
    super(
      `node ${node} runs a different plan of this job id (ours: ${ours}; theirs: ${theirs}); start every node with the same job, --nodes and --parallelism`,
    );
  }
}

/** Two processes claim the same node id of one job. Terminal. */
export class DuplicateNodeError extends KeyflowError {
  readonly code = "CLUSTER_DUPLICATE_NODE";
  constructor(readonly node: number) {
    super(`two processes claim node ${node} of this job; give each node its own --node`);
  }
}

/** Some nodes never joined within the join timeout: nothing ran. Retriable once they are started. */
export class PeersMissingError extends KeyflowError {
  readonly code = "CLUSTER_PEERS_MISSING";
  override readonly retriable = true;
  constructor(
    readonly missing: readonly number[],
    readonly waitedMs: number,
  ) {
    super(
      `node${missing.length === 1 ? "" : "s"} ${missing.join(", ")} did not join within ${Math.round(waitedMs)} ms`,
    );
  }
}

/** No node 0 of the job answered a status request (`keyflow status --nats`): not running, or not reachable. Retriable. */
export class StatusUnreachableError extends KeyflowError {
  readonly code = "CLUSTER_STATUS_UNREACHABLE";
  override readonly retriable = true;
  constructor(
    readonly jobId: string,
    readonly subject: string,
    why: string,
    options?: ErrorOptions,
  ) {
    super(`job "${jobId}": ${why} (asked on ${subject})`, options);
  }
}
