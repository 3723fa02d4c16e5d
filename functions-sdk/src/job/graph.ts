import type { SinkSpec } from "../connector/sink.js";
import type { Source } from "../connector/source.js";
import type { AnyFunctionType } from "../function/define-function.js";
import type { BroadcastStateDeclarations, Partitioner } from "../function/functions.js";
import type { Key, KeySelector } from "../key.js";
import type { AggregateFunction, StateDeclarations } from "../state/descriptors.js";
import type { WatermarkStrategy } from "../time/watermark-strategy.js";
import type { WindowAssigner } from "../window/assigner.js";
import type { Evictor } from "../window/evictor.js";
import type { Trigger } from "../window/trigger.js";
import type { Window } from "../window/window.js";

/**
 * The job graph: what the SDK builds and the runtime executes. Plain data plus the user's
 * functions; built anew in every worker and node from the same job module, so node ids and
 * uids are the same everywhere. Record types are erased here; the typed surface is DataStream.
 */
export interface JobGraph {
  readonly name: string;
  /** Default parallelism of operators that set none (the runtime may override it). */
  readonly parallelism: number | undefined;
  /** Default max parallelism (number of key groups). */
  readonly maxParallelism: number;
  /** How often periodic watermark generators are asked for a watermark, in ms of processing time (default 200). */
  readonly autoWatermarkIntervalMs: number;
  readonly nodes: readonly OperatorNode[];
}

/** How an operator may be chained to its input: "always" when possible, "head" starts a new chain, "never" chains with nothing. */
export type ChainingStrategy = "always" | "head" | "never";

export interface OperatorNode {
  readonly id: number;
  uid: string;
  name: string;
  readonly spec: OperatorSpec;
  parallelism: number | undefined;
  maxParallelism: number | undefined;
  chaining: ChainingStrategy;
  readonly inputs: EdgeSpec[];
  /** True when the user set the uid (kept in savepoints). */
  uidSet: boolean;
}

/** An edge into an operator: where from, which input (0 or 1 for two-input operators), how records are spread. */
export interface EdgeSpec {
  readonly from: number;
  readonly inputIndex: 0 | 1;
  readonly partitioner: PartitionerSpec;
  /** Records of this side output of `from` instead of its main output. */
  readonly sideOutput: string | undefined;
}

/**
 * How records of an edge are spread over the target's shards.
 * "auto" becomes forward when both sides have the same parallelism and rebalance otherwise.
 */
export type PartitionerSpec =
  | { readonly kind: "auto" }
  | { readonly kind: "forward" }
  | { readonly kind: "rebalance" }
  | { readonly kind: "rescale" }
  | { readonly kind: "shuffle" }
  | { readonly kind: "broadcast" }
  | { readonly kind: "global" }
  | { readonly kind: "hash"; readonly key: KeySelector<unknown, Key> }
  | { readonly kind: "custom"; readonly key: KeySelector<unknown, Key>; readonly partition: Partitioner<Key> };

// biome-ignore lint/suspicious/noExplicitAny: the graph erases record types; DataStream keeps them
type Erased = any;

/** What an operator does. The runtime has one implementation per kind. */
export type OperatorSpec =
  | {
      readonly kind: "source";
      readonly source: Source<unknown>;
      /** Per-split timestamps and watermarks, applied as the source emits. */
      readonly watermarks: WatermarkStrategy<Erased> | undefined;
    }
  | { readonly kind: "map"; readonly fn: Erased }
  | { readonly kind: "filter"; readonly fn: Erased }
  | { readonly kind: "flatMap"; readonly fn: Erased }
  | { readonly kind: "process"; readonly fn: Erased }
  | { readonly kind: "keyedProcess"; readonly fn: Erased; readonly state: StateDeclarations }
  | {
      readonly kind: "rollingReduce";
      readonly reduce: (a: Erased, b: Erased) => Erased;
      /** Set for sum/min/max of a field: lets the runtime keep a number per key instead of a record. `reduce` has the same meaning. */
      readonly field?: { readonly name: string; readonly aggregation: "sum" | "min" | "max" };
    }
  | { readonly kind: "coMap"; readonly fn: Erased }
  | { readonly kind: "coFlatMap"; readonly fn: Erased }
  | { readonly kind: "coProcess"; readonly fn: Erased }
  | { readonly kind: "keyedCoProcess"; readonly fn: Erased; readonly state: StateDeclarations }
  | {
      readonly kind: "broadcastProcess";
      readonly fn: Erased;
      readonly keyed: boolean;
      readonly state: StateDeclarations;
      readonly broadcastState: BroadcastStateDeclarations;
    }
  | { readonly kind: "timestampsAndWatermarks"; readonly strategy: WatermarkStrategy<Erased> }
  | { readonly kind: "window"; readonly window: WindowSpec }
  | {
      /** Per-key functions (actors) fed by routed ingress; messages between them stay inside. Keyed by address id. */
      readonly kind: "functions";
      readonly functions: readonly AnyFunctionType[];
      /** Egress id for messages whose handler threw; undefined: the job fails. */
      readonly deadLetters: string | undefined;
    }
  | { readonly kind: "sink"; readonly sink: SinkSpec };

/** A keyed window operator: how records are bucketed, when buckets fire, and what a firing computes. */
export interface WindowSpec {
  readonly assigner: WindowAssigner<Erased, Window>;
  /** Undefined: the assigner's default trigger. */
  readonly trigger: Trigger<Erased, Window> | undefined;
  readonly evictor: Evictor<Erased, Window> | undefined;
  /** How long after a window's end late records still update it (event time only); 0 by default. */
  readonly allowedLatenessMs: number;
  /** Side output id for records too late for every window they belong to; undefined: dropped and counted. */
  readonly lateDataTag: string | undefined;
  readonly function: WindowFunctionSpec;
}

/** What a firing computes: an incremental reduce or aggregate (optionally handed to a process window function), or a process window function over all records. */
export type WindowFunctionSpec =
  | { readonly kind: "reduce"; readonly reduce: (a: Erased, b: Erased) => Erased; readonly process: Erased | undefined }
  | {
      readonly kind: "aggregate";
      readonly aggregate: AggregateFunction<Erased, Erased, Erased>;
      readonly process: Erased | undefined;
    }
  | { readonly kind: "process"; readonly process: Erased };

export type OperatorKind = OperatorSpec["kind"];

/** Operators that hold keyed state and so need every input keyed. */
export const KEYED_KINDS: ReadonlySet<OperatorKind> = new Set([
  "keyedProcess",
  "rollingReduce",
  "keyedCoProcess",
  "window",
  "functions",
]);
