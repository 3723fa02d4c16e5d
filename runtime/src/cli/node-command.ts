import { appendFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { runNode } from "../cluster/static-node.js";
import { CheckpointStore } from "../state/store/checkpoint-store.js";

export interface NodeCommandOptions {
  readonly nats: string;
  readonly job: string;
  readonly node: number;
  readonly nodes: number;
  readonly parallelism?: number;
  readonly jobId?: string;
  readonly results?: string;
  readonly resultsJournal?: string;
  readonly batchSize: number;
  readonly bufferTimeout: number;
  readonly joinTimeout: number;
  readonly stateDir?: string;
  readonly checkpointInterval: number;
  readonly retain: number;
  readonly peerTimeout: number;
}

/**
 * `keyflow node`: one node of a static cluster. With `--state-dir` the job is checkpointed:
 * node 0 keeps the checkpoints in that folder (the other nodes do not write it), and every node
 * of a cluster started again after a crash resumes from node 0's latest completed checkpoint.
 */
export async function nodeCommand(options: NodeCommandOptions): Promise<void> {
  const controller = new AbortController();
  const onSignal = () => {
    console.error(`keyflow: node ${options.node}: cancelling the job…`);
    controller.abort();
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const store =
    options.stateDir !== undefined && options.node === 0
      ? await CheckpointStore.open(options.stateDir, { retain: options.retain })
      : undefined;
  try {
    const result = await runNode({
      natsUrl: options.nats,
      job: options.job,
      node: options.node,
      nodes: options.nodes,
      ...(options.parallelism === undefined ? {} : { parallelism: options.parallelism }),
      ...(options.jobId === undefined ? {} : { jobId: options.jobId }),
      batchSize: options.batchSize,
      bufferTimeoutMs: options.bufferTimeout,
      joinTimeoutMs: options.joinTimeout,
      peerTimeoutMs: options.peerTimeout,
      signal: controller.signal,
      ...(options.resultsJournal === undefined ? {} : { onCommit: journal(options.resultsJournal) }),
      ...(options.stateDir === undefined
        ? {}
        : {
            checkpoints: {
              intervalMs: options.checkpointInterval,
              ...(store === undefined ? {} : { storage: store }),
            },
            log: (line: string) => {
              if (process.env.KEYFLOW_VERBOSE !== undefined || !/^checkpoint \d+ complete$/.test(line)) {
                console.error(`keyflow: node ${options.node}: ${line}`);
              }
            },
          }),
    });
    if (options.results !== undefined) await writeFile(options.results, JSON.stringify(result.collected));
    console.error(
      `keyflow: node ${result.node} of job "${result.jobName}" finished in ${(result.durationMs / 1000).toFixed(2)} s`,
    );
  } catch (error) {
    if ((error as { code?: string }).code === "JOB_CANCELLED") {
      console.error(`keyflow: node ${options.node}: job cancelled`);
      return;
    }
    throw error;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await store?.close();
    // The node is done; should a user's source or sink leave a handle open, do not hang on it.
    setTimeout(() => process.exit(), 3000).unref();
  }
}

/**
 * `--results-journal FILE`: one JSON line per committed batch of collect-sink records,
 * `{ sink, shard, transaction?, records }`, appended before the commit returns, so what a
 * SIGKILLed node committed stays. Processes restored from one checkpoint commit its
 * pre-committed transactions again: readers keep one line per transaction id.
 */
function journal(file: string) {
  return (sink: string, shard: number, records: readonly unknown[], transaction?: string) => {
    if (records.length === 0) return;
    appendFileSync(
      file,
      `${JSON.stringify({ sink, shard, ...(transaction === undefined ? {} : { transaction }), records })}\n`,
    );
  };
}
