import type { AnyFunctionType, OperatorNode } from "@keyflow/functions-sdk";
import { keyGroupOf, shardOfKeyGroup } from "../partition/key-groups.js";
import type { ExecutionPlan, PlanVertex } from "../plan/execution-plan.js";
import { placeShard, type ShardLocation } from "../plan/placement.js";
import { StateQueryError } from "./errors.js";
import type { StateQuery } from "./state-query.js";

/** Operator kinds whose keyed state a query may read by uid. */
const QUERYABLE_KINDS = new Set(["functions", "keyedProcess", "keyedCoProcess"]);

/** A query resolved against a plan: the operator, the function type, and the shard owning the key. */
export interface QueryTarget {
  readonly query: StateQuery;
  readonly vertex: PlanVertex;
  readonly operator: OperatorNode;
  /** The function type read (a functions operator), undefined for a keyed operator. */
  readonly fn: AnyFunctionType | undefined;
  readonly keyGroup: number;
  readonly shard: number;
  readonly location: ShardLocation;
}

/** Where the job's shards are: how many nodes, and threads per node (placement, plan/placement.ts). */
export interface QueryPlacement {
  readonly nodes: number;
  readonly threads: number;
}

/**
 * Resolves `query` against the job's plan: which operator, which function type, and — by the key's
 * key group — which shard and which node and thread host it. A pure function of the plan, so every
 * thread and node of a job resolves a query alike. Throws StateQueryError for an unknown function
 * type or uid (naming the known ones), an ambiguous type, or a malformed query.
 */
export function resolveQuery(plan: ExecutionPlan, query: StateQuery, placement: QueryPlacement): QueryTarget {
  if (query === null || typeof query !== "object" || (query.functionType === undefined && query.uid === undefined)) {
    throw new StateQueryError("QUERY_INVALID", "a state query names a function type or an operator uid, and a key");
  }
  if (query.key === undefined || query.key === null) {
    throw new StateQueryError("QUERY_INVALID", "a state query needs a key");
  }
  const candidates: Array<{ vertex: PlanVertex; operator: OperatorNode }> = [];
  for (const vertex of plan.vertices) {
    for (const operator of vertex.operators) {
      if (QUERYABLE_KINDS.has(operator.spec.kind)) candidates.push({ vertex, operator });
    }
  }
  let chosen: { vertex: PlanVertex; operator: OperatorNode } | undefined;
  let fn: AnyFunctionType | undefined;
  if (query.functionType !== undefined) {
    const hosting = candidates.filter(
      ({ operator }) =>
        operator.spec.kind === "functions" &&
        (query.uid === undefined || operator.uid === query.uid) &&
        operator.spec.functions.some((f) => f.type === query.functionType),
    );
    if (hosting.length === 0) {
      const known = [
        ...new Set(
          candidates.flatMap(({ operator }) =>
            operator.spec.kind === "functions" && (query.uid === undefined || operator.uid === query.uid)
              ? operator.spec.functions.map((f) => f.type)
              : [],
          ),
        ),
      ];
      const where =
        query.uid === undefined ? `job "${plan.jobName}"` : `operator "${query.uid}" of job "${plan.jobName}"`;
      throw new StateQueryError(
        "QUERY_FUNCTION_TYPE_UNKNOWN",
        `no function type "${query.functionType}" in ${where}; ` +
          (known.length === 0 ? "it hosts no function types" : `known types: ${known.join(", ")}`),
        { functionType: query.functionType, known },
      );
    }
    if (hosting.length > 1) {
      const uids = hosting.map(({ operator }) => operator.uid);
      throw new StateQueryError(
        "QUERY_TARGET_AMBIGUOUS",
        `function type "${query.functionType}" is hosted by several operators (${uids.join(", ")}): give the uid`,
        { functionType: query.functionType, known: uids },
      );
    }
    chosen = hosting[0] as { vertex: PlanVertex; operator: OperatorNode };
    const spec = chosen.operator.spec as { kind: "functions"; functions: readonly AnyFunctionType[] };
    fn = spec.functions.find((f) => f.type === query.functionType);
    if (typeof query.key !== "string") {
      throw new StateQueryError("QUERY_INVALID", `an address id is a string, got ${typeof query.key}`);
    }
  } else {
    chosen = candidates.find(({ operator }) => operator.uid === query.uid);
    if (chosen === undefined) {
      const known = candidates.map(({ operator }) => operator.uid);
      throw new StateQueryError(
        "QUERY_OPERATOR_UNKNOWN",
        `no keyed operator with uid "${query.uid}" in job "${plan.jobName}" that a query can read; ` +
          (known.length === 0 ? "it has none" : `queryable uids: ${known.join(", ")}`),
        { uid: query.uid, known },
      );
    }
  }
  const { vertex, operator } = chosen;
  const maxParallelism = plan.parallelismOf.get(operator.id)?.maxParallelism ?? 128;
  const keyGroup = keyGroupOf(query.key, maxParallelism);
  const shard = shardOfKeyGroup(keyGroup, maxParallelism, vertex.parallelism);
  return {
    query,
    vertex,
    operator,
    fn,
    keyGroup,
    shard,
    location: placeShard(shard, placement.nodes, placement.threads),
  };
}
