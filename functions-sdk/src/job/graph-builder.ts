import { InvalidJobError } from "../errors.js";
import type { EdgeSpec, JobGraph, OperatorNode, OperatorSpec } from "./graph.js";

/** Where a stream's records come from: a node's main output or one of its side outputs. */
export interface StreamInput {
  readonly from: number;
  readonly sideOutput: string | undefined;
}

const DEFAULT_NAMES: Record<OperatorSpec["kind"], string> = {
  source: "Source",
  map: "Map",
  filter: "Filter",
  flatMap: "FlatMap",
  process: "Process",
  keyedProcess: "KeyedProcess",
  rollingReduce: "Reduce",
  coMap: "CoMap",
  coFlatMap: "CoFlatMap",
  coProcess: "CoProcess",
  keyedCoProcess: "KeyedCoProcess",
  broadcastProcess: "BroadcastProcess",
  timestampsAndWatermarks: "Timestamps/Watermarks",
  window: "Window",
  functions: "Functions",
  sink: "Sink",
};

/** Collects operators as the user's build function runs; ids follow creation order. */
export class GraphBuilder {
  readonly nodes: OperatorNode[] = [];
  parallelism: number | undefined;
  maxParallelism = 128;
  autoWatermarkIntervalMs = 200;

  constructor(readonly jobName: string) {}

  add(spec: OperatorSpec, inputs: EdgeSpec[], name?: string): OperatorNode {
    const id = this.nodes.length;
    const node: OperatorNode = {
      id,
      uid: `${spec.kind}-${id}`,
      uidSet: false,
      name: name ?? DEFAULT_NAMES[spec.kind],
      spec,
      parallelism: undefined,
      maxParallelism: undefined,
      chaining: "always",
      inputs,
    };
    this.nodes.push(node);
    return node;
  }

  /** Freezes the graph and checks what can be checked before running. */
  finish(): JobGraph {
    const uids = new Map<string, OperatorNode>();
    for (const node of this.nodes) {
      const other = uids.get(node.uid);
      if (other !== undefined) {
        throw new InvalidJobError(
          node.name,
          `uid "${node.uid}" is also the uid of operator "${other.name}"; uids must be unique`,
        );
      }
      uids.set(node.uid, node);
      const maxParallelism = node.maxParallelism ?? this.maxParallelism;
      checkPositiveInteger(node, "maxParallelism", maxParallelism);
      if (node.parallelism !== undefined) {
        checkPositiveInteger(node, "parallelism", node.parallelism);
        if (node.parallelism > maxParallelism) {
          throw new InvalidJobError(
            node.name,
            `parallelism ${node.parallelism} is above its maxParallelism ${maxParallelism}`,
          );
        }
      }
      if (declaresKeyedStateWithoutKey(node)) {
        throw new InvalidJobError(
          node.name,
          "declares keyed state but its input is not keyed; call keyBy(...) before process(...) or connect(...)",
        );
      }
      if (node.spec.kind === "source") {
        const limit = node.spec.source.maxParallelism;
        if (limit !== undefined && node.parallelism !== undefined && node.parallelism > limit) {
          throw new InvalidJobError(
            node.name,
            `this source supports parallelism ${limit} at most, asked for ${node.parallelism}`,
          );
        }
      }
    }
    if (this.parallelism !== undefined) {
      checkPositiveInteger({ name: this.jobName }, "parallelism", this.parallelism);
      if (this.parallelism > this.maxParallelism) {
        throw new InvalidJobError(
          this.jobName,
          `job parallelism ${this.parallelism} is above the job's maxParallelism ${this.maxParallelism}`,
        );
      }
    }
    return {
      name: this.jobName,
      parallelism: this.parallelism,
      maxParallelism: this.maxParallelism,
      autoWatermarkIntervalMs: this.autoWatermarkIntervalMs,
      nodes: this.nodes,
    };
  }
}

function checkPositiveInteger(node: { name: string }, what: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new InvalidJobError(node.name, `${what} must be a positive integer, got ${value}`);
  }
}

/** A process function on a non-keyed stream (or a non-keyed broadcast connection) that declares `state`. */
function declaresKeyedStateWithoutKey(node: OperatorNode): boolean {
  const { spec } = node;
  const nonKeyed = spec.kind === "process" || (spec.kind === "broadcastProcess" && !spec.keyed);
  return nonKeyed && (spec.fn as { state?: unknown } | undefined)?.state !== undefined;
}
