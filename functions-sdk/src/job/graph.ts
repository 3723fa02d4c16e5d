import type { SinkSpec } from "../connector/sink.js";
import type { Source } from "../connector/source.js";
import type { BroadcastStateDeclarations, Partitioner } from "../function/functions.js";
import type { Key, KeySelector } from "../key.js";
import type { StateDeclarations } from "../state/descriptors.js";

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
  | { readonly kind: "source"; readonly source: Source<unknown> }
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
  | { readonly kind: "sink"; readonly sink: SinkSpec };

export type OperatorKind = OperatorSpec["kind"];

/** Operators that hold keyed state and so need every input keyed. */
export const KEYED_KINDS: ReadonlySet<OperatorKind> = new Set(["keyedProcess", "rollingReduce", "keyedCoProcess"]);
