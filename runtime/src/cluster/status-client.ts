import type { JobStatus } from "../coordinator/job-status.js";
import { isNoResponders } from "../transport/nats-connection.js";
import { StatusUnreachableError } from "./errors.js";
import { connectJobClient, type JobClientOptions } from "./job-client.js";

export interface ClusterStatusOptions extends JobClientOptions {
  /** Longest wait for node 0's answer, in ms. Default 5000. */
  readonly timeoutMs?: number;
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
  const { jobId, link, timeoutMs } = await connectJobClient(options, "status client");
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
