import { StreamEnvironment } from "./environment.js";
import type { JobGraph } from "./graph.js";
import { GraphBuilder } from "./graph-builder.js";

export interface JobOptions {
  readonly name: string;
}

/**
 * A job: a name and a function that builds its dataflow. A job module default-exports one:
 *
 * ```ts
 * export default defineJob({ name: "max-temperature" }, (env) => {
 *   env.fromSource(sensorSource()).keyBy((r) => r.id).maxBy("temperature").print();
 * });
 * ```
 *
 * The runtime calls `build` in every worker thread and node, so the build function must be
 * deterministic (same operators in the same order) and should create function objects inside
 * it: each shard then gets its own instances.
 */
export interface JobDefinition {
  readonly kind: "keyflow.job";
  readonly name: string;
  build(): JobGraph;
}

export function defineJob(options: JobOptions | string, build: (env: StreamEnvironment) => void): JobDefinition {
  const name = typeof options === "string" ? options : options.name;
  return {
    kind: "keyflow.job",
    name,
    build(): JobGraph {
      const builder = new GraphBuilder(name);
      build(new StreamEnvironment(builder));
      return builder.finish();
    },
  };
}

/** True for a value made by `defineJob` (checked by the runtime when it loads a job module). */
export function isJobDefinition(value: unknown): value is JobDefinition {
  return typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "keyflow.job";
}
