import { connect } from "@nats-io/transport-node";
import { NatsUnreachableError } from "./errors.js";
import { JobSubjects } from "./job-subjects.js";
import { NatsLink } from "./nats-link.js";

export interface ConnectNatsOptions {
  /** A NATS URL, or several comma-separated (servers of one NATS cluster). */
  readonly url: string;
  /** The job whose subjects the link uses (one subject token). */
  readonly jobId: string;
  /** Longest wait for the server's handshake, in ms. Default 2000. */
  readonly timeoutMs?: number;
  /** The client name the server's monitoring shows. */
  readonly name?: string;
}

/**
 * Opens one node's link to NATS. Rejects with NatsUnreachableError (one line naming the URL)
 * when no server answers in time; never retries on its own, so a wrong URL fails fast.
 *
 * @example
 * const link = await connectNats({ url: "nats://127.0.0.1:4222", jobId: "orders" });
 */
export async function connectNats(options: ConnectNatsOptions): Promise<NatsLink> {
  // Checks the job id before a connection exists that would need closing.
  new JobSubjects(options.jobId);
  const servers = options.url
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  let connection: Awaited<ReturnType<typeof connect>>;
  try {
    connection = await connect({
      servers,
      timeout: options.timeoutMs ?? 2000,
      ...(options.name === undefined ? {} : { name: options.name }),
    });
  } catch (error) {
    throw new NatsUnreachableError(options.url, reasonOf(error), { cause: error });
  }
  return new NatsLink({ connection, url: options.url, jobId: options.jobId });
}

/** Whether a failed request found no subscriber to the subject at all (NATS says so at once). */
export function isNoResponders(error: unknown): boolean {
  return (
    (error as { isNoResponders?: () => boolean }).isNoResponders?.() === true ||
    (error as { cause?: { name?: string } }).cause?.name === "NoRespondersError"
  );
}

/** The client's errors carry socket details; keep the part a person can act on. */
function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return "host not found";
  if (code === "ERR_INVALID_URL") return "invalid URL";
  const message = error.message.split("\n")[0] ?? "";
  if (/refused/i.test(message)) return "connection refused";
  if (/timeout/i.test(message)) return "no answer in time";
  return message.length > 0 ? message : error.name;
}
