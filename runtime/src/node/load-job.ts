import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { isJobDefinition, type JobDefinition, KeyflowError } from "@keyflow/functions-sdk";

/** A job module did not load or does not export a job. Terminal. */
export class JobModuleError extends KeyflowError {
  readonly code = "JOB_MODULE_INVALID";
  constructor(
    readonly module: string,
    problem: string,
    options?: ErrorOptions,
  ) {
    super(`job module ${module}: ${problem}`, options);
  }
}

/** A file path (relative to the working directory) or URL of a job module, as a file URL. */
export function jobModuleUrl(module: string | URL): string {
  if (module instanceof URL) return module.href;
  if (/^[a-z]+:\/\//i.test(module)) return module;
  return pathToFileURL(isAbsolute(module) ? module : resolve(process.cwd(), module)).href;
}

/** Imports a job module and returns its job: the default export, or an export named `job`. */
export async function loadJob(module: string | URL): Promise<JobDefinition> {
  const url = jobModuleUrl(module);
  let imported: Record<string, unknown>;
  try {
    imported = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    throw new JobModuleError(url, `could not be imported: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  const job = imported.default ?? imported.job;
  if (!isJobDefinition(job)) {
    throw new JobModuleError(
      url,
      "does not export a job: `export default defineJob(...)` (or `export const job = ...`)",
    );
  }
  return job;
}
