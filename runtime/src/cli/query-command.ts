import { queryClient } from "../cluster/query-client.js";
import { loadJob } from "../node/load-job.js";
import { StateQueryError, type StateQueryErrorCode } from "../query/errors.js";
import { toJsonValue } from "../query/json-state.js";
import type { StateQuery, StateQueryAnswer } from "../query/state-query.js";
import { jobIdFromName } from "../transport/job-subjects.js";
import { controlSocketPath, runSocketPath, sendControlTo } from "./control-socket.js";

export interface QueryCommandOptions {
  /** Ask the cluster on this NATS: `kf.<jobId>.query`. Without it, ask a local `keyflow run`. */
  readonly nats?: string;
  /** The job's id on NATS and in the run socket's name (default: from the job's name). */
  readonly jobId?: string;
  /** The functions operator's uid, when several host the type. */
  readonly uid?: string;
  /** Ask the local run with this state folder (its control socket). */
  readonly stateDir?: string;
  /** Longest wait for an answer, in ms. */
  readonly timeout: number;
}

/** Exit code of `keyflow query` for a key without state (the answer is clear, and not an error). */
export const NO_STATE_EXIT_CODE = 3;

/**
 * `keyflow query <job-module> <function-type> <id>`: prints the state of one address of a running
 * job as JSON (maps as objects, bigints as strings) and returns 0; for a key with no state prints
 * `no state for <type> <id>` on stderr and returns NO_STATE_EXIT_CODE (3). With `--nats` it asks
 * the cluster; otherwise the local `keyflow run` of the job (its run socket, or with `--state-dir`
 * that run's control socket). Throws (exit 1, one line) for an unknown type, naming the known ones,
 * or a job nothing answers for.
 */
export async function queryCommand(
  module: string,
  functionType: string,
  id: string,
  options: QueryCommandOptions,
): Promise<number> {
  const jobId = options.jobId ?? jobIdFromName((await loadJob(module)).name);
  const query: StateQuery = { functionType, key: id, ...(options.uid === undefined ? {} : { uid: options.uid }) };
  const answer =
    options.nats === undefined ? await askRun(jobId, query, options) : await askCluster(jobId, query, options);
  if (!answer.found) {
    console.error(`keyflow: no state for ${functionType} ${id}`);
    return NO_STATE_EXIT_CODE;
  }
  console.log(JSON.stringify(toJsonValue(answer.state), null, 2));
  return 0;
}

async function askCluster(jobId: string, query: StateQuery, options: QueryCommandOptions): Promise<StateQueryAnswer> {
  const client = await queryClient({ natsUrl: options.nats as string, job: jobId, timeoutMs: options.timeout });
  try {
    return await client.ask(query);
  } finally {
    await client.close().catch(() => {});
  }
}

async function askRun(jobId: string, query: StateQuery, options: QueryCommandOptions): Promise<StateQueryAnswer> {
  const [path, what] =
    options.stateDir === undefined
      ? [runSocketPath(jobId), `job id "${jobId}" here`]
      : [controlSocketPath(options.stateDir), `state folder ${options.stateDir}`];
  const response = await withTimeout(sendControlTo(path, { command: "query", query }, what), options.timeout, what);
  if (!response.ok) {
    throw new StateQueryError(
      (response.code ?? "QUERY_JOB_UNREACHABLE") as StateQueryErrorCode,
      response.error,
      response.details ?? {},
    );
  }
  if (!("answer" in response)) throw new Error(`the job with ${what} answered something that is not a query answer`);
  return response.answer as StateQueryAnswer;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new StateQueryError("QUERY_JOB_UNREACHABLE", `the job with ${what} did not answer within ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
