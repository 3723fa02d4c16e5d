import type { JobDefinition } from "@keyflow/functions-sdk";
import { jobIdFromName } from "../transport/job-subjects.js";
import { connectNats } from "../transport/nats-connection.js";
import type { NatsLink } from "../transport/nats-link.js";

/** How a client outside the cluster (a state query, a status request) reaches a job's nodes. */
export interface JobClientOptions {
  /** NATS URL (several comma-separated for a NATS cluster). */
  readonly natsUrl: string;
  /** The job: its id (`--job-id`, default the job name with "_" for characters a subject cannot hold), or its definition. */
  readonly job: string | JobDefinition;
  /** Longest wait for an answer, in ms. Default 5000. */
  readonly timeoutMs?: number;
  /** Longest wait for NATS when connecting, in ms. Default 2000. */
  readonly connectTimeoutMs?: number;
}

/** A client's own NATS connection to the job's subjects, named `keyflow <jobId> <role>`; with the job id and the answer timeout. */
export async function connectJobClient(
  options: JobClientOptions,
  role: string,
): Promise<{ jobId: string; link: NatsLink; timeoutMs: number }> {
  const jobId = typeof options.job === "string" ? options.job : jobIdFromName(options.job.name);
  const link = await connectNats({
    url: options.natsUrl,
    jobId,
    timeoutMs: options.connectTimeoutMs ?? 2_000,
    name: `keyflow ${jobId} ${role}`,
  });
  return { jobId, link, timeoutMs: options.timeoutMs ?? 5_000 };
}
