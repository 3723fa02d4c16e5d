import type { JobDefinition } from "@keyflow/functions-sdk";
import type { JobStatus } from "../coordinator/job-status.js";
import { jobIdFromName } from "../transport/job-subjects.js";
import { connectNats, isNoResponders } from "../transport/nats-connection.js";
import { StatusUnreachableError } from "./errors.js";

export interface ClusterStatusOptions {
  /** NATS URL (several comma-separated for a NATS cluster). */
  readonly natsUrl: string;
  /** The job: its id (`--job-id`, default the job name with "_" for characters a subject cannot hold), or its definition. */
  readonly job: string | JobDefinition;
  /** Longest wait for node 0's answer, in ms. Default 5000. */
  readonly timeoutMs?: number;
  /** Longest wait for NATS when connecting, in ms. Default 2000. */
  readonly connectTimeoutMs?: number;
}

/**
 * The status of a job running on a static cluster (`keyflow node`), as node 0 (which leads its
 * checkpoints) tells it on `kf.<jobId>.status`. Rejects with NatsUnreachableError when NATS does
 * not answer, and with StatusUnreachableError when no node 0 of the job does.
 *
 * ```ts
 * const status = await clusterStatus({ natsUrl: "nats://127.0.0.1:4222", job: "counters" });
 * status.coordinator; // "idle" | "checkpointing" | ...
 * ```
 */
export async function clusterStatus(options: ClusterStatusOptions): Promise<JobStatus> {
  const jobId = typeof options.job === "string" ? options.job : jobIdFromName(options.job.name);
  const timeoutMs = options.timeoutMs ?? 5_000;
  const link = await connectNats({
    url: options.natsUrl,
    jobId,
    timeoutMs: options.connectTimeoutMs ?? 2_000,
    name: `keyflow ${jobId} status client`,
  });
  const subject = link.subjects.status;
  try {
    return await link.request<JobStatus>(subject, {}, timeoutMs);
  } catch (error) {
    const why = isNoResponders(error)
      ? "no node 0 of the job is running"
      : `node 0 did not answer within ${timeoutMs} ms (${error instanceof Error ? error.message : String(error)})`;
    throw new StatusUnreachableError(jobId, subject, why, { cause: error });
  } finally {
    await link.close();
  }
}
