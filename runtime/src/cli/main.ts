#!/usr/bin/env node
import { Command, InvalidArgumentError } from "commander";
import { clusterStatus } from "../cluster/status-client.js";
import { CheckpointStore } from "../state/store/checkpoint-store.js";
import { sendControl } from "./control-socket.js";
import { type NodeCommandOptions, nodeCommand } from "./node-command.js";
import { type QueryCommandOptions, queryCommand } from "./query-command.js";
import { parseRestart } from "./restart-option.js";
import { type RunCommandOptions, runCommand } from "./run-command.js";

/**
 * The `keyflow` command. Errors are printed as one line naming the problem (set KEYFLOW_DEBUG=1
 * for the stack), and the exit code is 1; Ctrl-C cancels a running job cleanly (exit 0).
 */
const program = new Command()
  .name("keyflow")
  .description("Keyflow: a stateful stream processor and actor runtime for TypeScript")
  .showHelpAfterError();

program
  .command("run")
  .description("run a job module embedded in this process, its shards on worker threads")
  .argument("<job-module>", "path or URL of a module that default-exports defineJob(...)")
  .option("-p, --parallelism <n>", "parallelism of operators that set none", positiveInt)
  .option(
    "-w, --workers <n>",
    "worker threads (0 runs on the main thread; default: one per core, up to the widest parallelism; with --state-dir the main thread leads the checkpoints)",
    nonNegativeInt,
  )
  .option("--batch-size <n>", "records per channel batch", positiveInt, 1000)
  .option("--buffer-timeout <ms>", "longest a partial batch waits", nonNegativeInt, 10)
  .option(
    "--state-dir <dir>",
    "take checkpoints into this LevelDB folder and resume from it after a crash (on worker threads too: a failed shard or worker restarts every worker from the latest checkpoint)",
  )
  .option("--checkpoint-interval <ms>", "time between checkpoints (with --state-dir)", positiveInt, 1_000)
  .option("--unaligned-checkpoints", "unaligned checkpoints, for backpressured jobs (with --state-dir)")
  .option("--from-savepoint <dir>", "start from a savepoint exported by `keyflow savepoint --target`")
  .option("--allow-non-restored-state", "drop savepoint state of operators the job no longer has")
  .option("--results <file>", "write the collect sinks' records as JSON when the job ends")
  .option(
    "--restart <strategy>",
    "with --state-dir: none, fixed-delay:<attempts>:<ms>, failure-rate:<failures>:<interval ms>:<ms>, exponential:<initial ms>:<max ms> (default fixed-delay, 1 s, no limit)",
    parseRestart,
  )
  .option("--retain <n>", "completed checkpoints kept in --state-dir", positiveInt, 3)
  .action((module: string, options: RunCommandOptions) => runCommand(module, options));

program
  .command("savepoint")
  .description("take a savepoint of the job running with this state folder (and stop it with --stop)")
  .argument("<state-dir>", "the --state-dir of the running job")
  .option("--stop", "stop the job once the savepoint is complete")
  .option("--target <dir>", "also export the savepoint, self-contained, into this folder (for --from-savepoint)")
  .action(async (stateDir: string, options: { stop?: boolean; target?: string }) => {
    const response = await sendControl(stateDir, {
      command: options.stop === true ? "stop-with-savepoint" : "savepoint",
      ...(options.target === undefined ? {} : { target: options.target }),
    });
    if (!response.ok) throw new Error(response.error);
    if (!("savepointId" in response)) throw new Error("the job answered something that is not a savepoint");
    console.log(
      `savepoint ${response.savepointId} complete${response.path === undefined ? "" : `, exported to ${response.path}`}`,
    );
  });

program
  .command("status")
  .description(
    "print what a running job is doing, as JSON: its run, the checkpoint coordinator's state, the latest checkpoint",
  )
  .argument("[state-dir]", "the --state-dir of the job (`keyflow run`)")
  .option("--nats <url>", "ask node 0 of the static cluster running the job on this NATS (`keyflow node`)")
  .option("--job-id <id>", "with --nats: the job's id (`keyflow node --job-id`)")
  .option("--timeout <ms>", "with --nats: longest wait for node 0's answer", positiveInt, 5_000)
  .action(async (stateDir: string | undefined, options: { nats?: string; jobId?: string; timeout: number }) => {
    if (options.nats !== undefined) {
      if (options.jobId === undefined) throw new Error("keyflow status --nats needs --job-id");
      const status = await clusterStatus({ natsUrl: options.nats, job: options.jobId, timeoutMs: options.timeout });
      console.log(JSON.stringify(status, null, 2));
      return;
    }
    if (stateDir === undefined) throw new Error("keyflow status needs a state folder, or --nats and --job-id");
    const response = await sendControl(stateDir, { command: "status" });
    if (!response.ok) throw new Error(response.error);
    if (!("status" in response)) throw new Error("the job answered something that is not a status");
    console.log(JSON.stringify(response.status, null, 2));
  });

program
  .command("query")
  .description(
    "print one address's state in a running job as JSON (exit 3: no state for that key; 1: unknown type, job unreachable)",
  )
  .argument("<job-module>", "the job's module (names the job; with --nats, its NATS subjects)")
  .argument("<function-type>", 'a function type of the job, e.g. "shop/cart"')
  .argument("<id>", "the address id (the key)")
  .option("--nats <url>", "ask the cluster running the job on this NATS (default: the local `keyflow run` of the job)")
  .option("--job-id <id>", "the job's id (`keyflow node --job-id`; default: from the job's name)")
  .option("--uid <uid>", "the functions operator's uid, when several host the type")
  .option("--state-dir <dir>", "ask the local run with this --state-dir (when several runs of the job are local)")
  .option("--timeout <ms>", "longest wait for the answer", positiveInt, 5_000)
  .action(async (module: string, functionType: string, id: string, options: QueryCommandOptions) => {
    process.exitCode = await queryCommand(module, functionType, id, options);
  });

program
  .command("checkpoints")
  .description(
    "list the completed checkpoints and savepoints of a state folder (or an exported savepoint), and what one holds",
  )
  .argument("<dir>", "a --state-dir, or a folder written by `keyflow savepoint --target`")
  .option("--id <n>", "describe this checkpoint (default: the newest)", positiveInt)
  .action(async (dir: string, options: { id?: number }) => {
    const store = await CheckpointStore.open(dir);
    try {
      const completed = store.completed();
      if (completed.length === 0) {
        console.log(`${dir}: no completed checkpoint`);
        return;
      }
      for (const c of completed)
        console.log(`${c.kind} ${c.id}  ${new Date(c.timestamp).toISOString()}  job "${c.jobName}"`);
      const description = await store.describe(options.id ?? (completed[0] as { id: number }).id);
      console.log(JSON.stringify(description, null, 2));
    } finally {
      await store.close();
    }
  });

program
  .command("node")
  .description("run one node of a static cluster: every node runs the same job and options, with its own --node id")
  .requiredOption("--nats <url>", "NATS server URL (several comma-separated for a NATS cluster)")
  .requiredOption("--job <module>", "path or URL of a module that default-exports defineJob(...)")
  .requiredOption("--node <id>", "this node's id, 0 ≤ id < nodes", nonNegativeInt)
  .requiredOption("--nodes <n>", "how many nodes run the job", positiveInt)
  .option("-p, --parallelism <n>", "parallelism of operators that set none", positiveInt)
  .option("--job-id <id>", "names the job's NATS subjects, kf.<id>.… (default: the job name)")
  .option("--results <file>", "write this node's collect-sink records as JSON: { sink: { shard: [records] } }")
  .option(
    "--results-journal <file>",
    "append each batch of collect-sink records as it commits, one JSON line { sink, shard, transaction, records }",
  )
  .option("--batch-size <n>", "records per channel batch", positiveInt, 1000)
  .option("--buffer-timeout <ms>", "longest a partial batch waits", nonNegativeInt, 10)
  .option("--join-timeout <ms>", "how long to wait for every node to join", positiveInt, 60_000)
  .option("--state-dir <dir>", "checkpoint the job; node 0 keeps the checkpoints in this LevelDB folder")
  .option("--checkpoint-interval <ms>", "time between checkpoints (with --state-dir)", positiveInt, 1_000)
  .option("--retain <n>", "completed checkpoints node 0 keeps in --state-dir", positiveInt, 3)
  .option("--peer-timeout <ms>", "silence after which a peer is presumed dead and the job fails", positiveInt, 10_000)
  .action((options: NodeCommandOptions) => nodeCommand(options));

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("must be a positive integer");
  return n;
}
function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("must be a whole number ≥ 0");
  return n;
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`keyflow: ${message}`);
  if (process.env.KEYFLOW_DEBUG) console.error(error);
  process.exitCode = 1;
}
