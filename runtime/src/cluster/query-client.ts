import { StateQueryError } from "../query/errors.js";
import type { QueryReply, StateQuery } from "../query/state-query.js";
import { ReplyQueryClient, type StateQueryClient } from "../query/state-query-client.js";
import { isNoResponders } from "../transport/nats-connection.js";
import { connectJobClient, type JobClientOptions } from "./job-client.js";

export type QueryClientOptions = JobClientOptions;

/** A StateQueryClient of a cluster job, with its own NATS connection. */
export interface ClusterQueryClient extends StateQueryClient {
  /** The NATS subject queries go to: `kf.<jobId>.query`. */
  readonly subject: string;
  /** Closes the connection; later queries reject. */
  close(): Promise<void>;
}

/**
 * Connects a queryable-state client to a job running on a static cluster (`keyflow node`): each
 * query is a NATS request on `kf.<jobId>.query`, answered by the node owning the key's shard (see
 * cluster/node-queries.ts). Rejects with NatsUnreachableError when NATS does not answer.
 *
 * ```ts
 * const client = await queryClient({ natsUrl: "nats://127.0.0.1:4222", job: "counters" });
 * const answer = await client.query(counter, "user-7"); // { found, state, origin }
 * await client.close();
 * ```
 *
 * A job with no node running answers QUERY_JOB_UNREACHABLE at once (NATS knows no one serves the
 * subject); a key whose node is down or slow, after `timeoutMs`.
 */
export async function queryClient(options: QueryClientOptions): Promise<ClusterQueryClient> {
  const { jobId, link, timeoutMs } = await connectJobClient(options, "query client");
  const subject = link.subjects.query;
  const send = async (query: StateQuery): Promise<QueryReply> => {
    try {
      return await link.request<QueryReply>(subject, query, timeoutMs);
    } catch (error) {
      throw unreachable(jobId, subject, timeoutMs, error);
    }
  };
  const client = new ReplyQueryClient(send);
  return {
    subject,
    query: client.query.bind(client) as StateQueryClient["query"],
    queryKeyed: client.queryKeyed.bind(client),
    ask: client.ask.bind(client),
    close: () => link.close(),
  };
}

function unreachable(jobId: string, subject: string, timeoutMs: number, error: unknown): StateQueryError {
  const noResponders = isNoResponders(error);
  const timedOut = (error as { name?: string }).name === "TimeoutError" || /timeout/i.test(String(error));
  const why = noResponders
    ? `no node of job "${jobId}" serves queries on ${subject} (is the job running?)`
    : timedOut
      ? `no node of job "${jobId}" answered within ${timeoutMs} ms (the node owning the key may be down)`
      : `job "${jobId}": ${error instanceof Error ? error.message : String(error)}`;
  return new StateQueryError("QUERY_JOB_UNREACHABLE", why, { jobId, subject }, { cause: error });
}
