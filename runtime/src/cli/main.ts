#!/usr/bin/env node
import { Command, InvalidArgumentError } from "commander";
import { execute } from "../embedded/execute.js";

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
  .option("-w, --workers <n>", "worker threads (0 runs on the main thread; default: one per core)", nonNegativeInt)
  .option("--batch-size <n>", "records per channel batch", positiveInt, 1000)
  .option("--buffer-timeout <ms>", "longest a partial batch waits", nonNegativeInt, 10)
  .action(
    async (
      module: string,
      options: { parallelism?: number; workers?: number; batchSize: number; bufferTimeout: number },
    ) => {
      const controller = new AbortController();
      const onSignal = () => {
        console.error("keyflow: cancelling the job…");
        controller.abort();
      };
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      try {
        const result = await execute(module, {
          ...(options.parallelism === undefined ? {} : { parallelism: options.parallelism }),
          ...(options.workers === undefined ? {} : { workers: options.workers }),
          batchSize: options.batchSize,
          bufferTimeoutMs: options.bufferTimeout,
          signal: controller.signal,
        });
        console.error(`keyflow: job "${result.jobName}" finished in ${(result.durationMs / 1000).toFixed(2)} s`);
      } catch (error) {
        if ((error as { code?: string }).code === "JOB_CANCELLED") {
          console.error("keyflow: job cancelled");
          return;
        }
        throw error;
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
    },
  );

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
