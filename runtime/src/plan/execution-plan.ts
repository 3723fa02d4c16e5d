import {
  InvalidJobError,
  type JobGraph,
  KEYED_KINDS,
  type Key,
  type OperatorNode,
  type PartitionerSpec,
} from "@keyflow/functions-sdk";

/** A partitioner once parallelism is known: "auto" is gone. */
export type ResolvedPartitioner = Exclude<PartitionerSpec, { kind: "auto" }>;

/**
 * A chain of operators that run in one shard as direct synchronous calls: the head takes the
 * shard's input, every other operator has exactly one input, forward from inside the chain.
 */
export interface PlanVertex {
  readonly id: number;
  readonly name: string;
  readonly head: OperatorNode;
  /** Head first, then in graph order (inputs before consumers). */
  readonly operators: readonly OperatorNode[];
  readonly parallelism: number;
  /** Per operator id: the chained operators fed by its main output. */
  readonly chained: ReadonlyMap<number, readonly OperatorNode[]>;
  readonly inEdges: PlanEdge[];
  readonly outEdges: PlanEdge[];
}

/** A network edge between two vertices (not chained). */
export interface PlanEdge {
  readonly id: number;
  readonly sourceVertex: number;
  readonly sourceNode: number;
  readonly sideOutput: string | undefined;
  readonly targetVertex: number;
  readonly targetNode: number;
  readonly inputIndex: 0 | 1;
  readonly partitioner: ResolvedPartitioner;
  /** The target operator's max parallelism (hash partitioning and key groups use it). */
  readonly maxParallelism: number;
}

/** One channel of an edge: from a source shard to a target shard. */
export interface PlanChannel {
  readonly id: number;
  readonly edge: number;
  readonly sourceShard: number;
  readonly targetShard: number;
  /** Index of this channel among the target shard's input channels. */
  readonly inputChannel: number;
  /** Index of this channel among the source shard's channels of this edge. */
  readonly outputSlot: number;
}

/**
 * The job graph expanded for execution: operators chained into vertices, parallelism resolved,
 * edges and their channels enumerated. A pure function of (graph, options): every worker and
 * node computes the same plan, so ids agree everywhere without being sent around.
 */
export interface ExecutionPlan {
  readonly jobName: string;
  /** Periodic watermark interval of the job (ms of processing time). */
  readonly autoWatermarkIntervalMs: number;
  readonly vertices: readonly PlanVertex[];
  readonly edges: readonly PlanEdge[];
  readonly channels: readonly PlanChannel[];
  /** Per vertex, per shard: input channels in gate order. */
  readonly inputsOf: ReadonlyArray<ReadonlyArray<readonly PlanChannel[]>>;
  /** Per vertex, per shard, per out edge (in vertex.outEdges order): channels in slot order. */
  readonly outputsOf: ReadonlyArray<ReadonlyArray<ReadonlyArray<readonly PlanChannel[]>>>;
  /** Per operator id: its resolved parallelism and max parallelism. */
  readonly parallelismOf: ReadonlyMap<number, { parallelism: number; maxParallelism: number }>;
}

export interface PlanOptions {
  /** Parallelism of operators that set none, overriding the job's default. */
  readonly parallelism?: number;
}

export function buildExecutionPlan(graph: JobGraph, options: PlanOptions = {}): ExecutionPlan {
  const nodes = graph.nodes;
  const parallelismOf = new Map<number, { parallelism: number; maxParallelism: number }>();
  for (const node of nodes) {
    const maxParallelism = node.maxParallelism ?? graph.maxParallelism;
    const parallelism = node.parallelism ?? options.parallelism ?? graph.parallelism ?? 1;
    if (!Number.isInteger(parallelism) || parallelism < 1) {
      throw new InvalidJobError(node.name, `parallelism must be a positive integer, got ${parallelism}`);
    }
    if (parallelism > maxParallelism) {
      throw new InvalidJobError(node.name, `parallelism ${parallelism} is above its maxParallelism ${maxParallelism}`);
    }
    if (node.spec.kind === "source") {
      const limit = node.spec.source.maxParallelism;
      if (limit !== undefined && parallelism > limit) {
        throw new InvalidJobError(
          node.name,
          `this source supports parallelism ${limit} at most, asked for ${parallelism}`,
        );
      }
    }
    parallelismOf.set(node.id, { parallelism, maxParallelism });
  }
  const p = (id: number) => (parallelismOf.get(id) as { parallelism: number }).parallelism;

  // Resolve partitioners and check keyed inputs.
  const resolved = new Map<OperatorNode["inputs"][number], ResolvedPartitioner>();
  for (const node of nodes) {
    for (const edge of node.inputs) {
      const source = nodes[edge.from] as OperatorNode;
      let partitioner: ResolvedPartitioner;
      if (edge.partitioner.kind === "auto") {
        partitioner = p(source.id) === p(node.id) ? { kind: "forward" } : { kind: "rebalance" };
      } else {
        partitioner = edge.partitioner;
      }
      if (partitioner.kind === "forward" && p(source.id) !== p(node.id)) {
        throw new InvalidJobError(
          node.name,
          `forward partitioning from "${source.name}" needs equal parallelism, got ${p(source.id)} and ${p(node.id)}`,
        );
      }
      resolved.set(edge, partitioner);
    }
    if (
      keyedInputs(node).some((input) =>
        node.inputs.some((e) => e.inputIndex === input && resolved.get(e)?.kind !== "hash"),
      )
    ) {
      throw new InvalidJobError(node.name, "uses keyed state but an input is not keyed; call keyBy(...) first");
    }
  }

  // Chain: a node joins its input's chain when that is its only input, forward, same parallelism, main output.
  const chainOf = new Map<number, number>(); // node id -> head id
  const consumers = new Map<number, OperatorNode[]>();
  for (const node of nodes) for (const edge of node.inputs) pushTo(consumers, edge.from, node);
  for (const node of nodes) {
    const only = node.inputs.length === 1 ? node.inputs[0] : undefined;
    const source = only === undefined ? undefined : (nodes[only.from] as OperatorNode);
    const chainable =
      only !== undefined &&
      source !== undefined &&
      only.sideOutput === undefined &&
      resolved.get(only)?.kind === "forward" &&
      node.chaining === "always" &&
      source.chaining !== "never" &&
      node.spec.kind !== "source";
    chainOf.set(node.id, chainable ? (chainOf.get(source.id) as number) : node.id);
  }

  const vertexOfHead = new Map<number, number>();
  const vertices: PlanVertex[] = [];
  for (const node of nodes) {
    if (chainOf.get(node.id) !== node.id) continue;
    const operators = nodes.filter((n) => chainOf.get(n.id) === node.id);
    const chained = new Map<number, OperatorNode[]>();
    for (const op of operators) {
      if (op === node) continue;
      pushTo(chained, (op.inputs[0] as OperatorNode["inputs"][number]).from, op);
    }
    const vertex: PlanVertex = {
      id: vertices.length,
      name: operators.map((op) => op.name).join(" -> "),
      head: node,
      operators,
      parallelism: p(node.id),
      chained,
      inEdges: [],
      outEdges: [],
    };
    vertexOfHead.set(node.id, vertex.id);
    vertices.push(vertex);
  }
  const vertexOf = (nodeId: number) => vertexOfHead.get(chainOf.get(nodeId) as number) as number;

  const edges: PlanEdge[] = [];
  for (const node of nodes) {
    if (chainOf.get(node.id) !== node.id) continue;
    for (const input of node.inputs) {
      const edge: PlanEdge = {
        id: edges.length,
        sourceVertex: vertexOf(input.from),
        sourceNode: input.from,
        sideOutput: input.sideOutput,
        targetVertex: vertexOf(node.id),
        targetNode: node.id,
        inputIndex: input.inputIndex,
        partitioner: resolved.get(input) as ResolvedPartitioner,
        maxParallelism: (parallelismOf.get(node.id) as { maxParallelism: number }).maxParallelism,
      };
      edges.push(edge);
      (vertices[edge.sourceVertex] as PlanVertex).outEdges.push(edge);
      (vertices[edge.targetVertex] as PlanVertex).inEdges.push(edge);
    }
  }

  const channels: PlanChannel[] = [];
  const inputsOf: PlanChannel[][][] = vertices.map((v) => Array.from({ length: v.parallelism }, () => []));
  const outputsOf: PlanChannel[][][][] = vertices.map((v) =>
    Array.from({ length: v.parallelism }, () => v.outEdges.map(() => [])),
  );
  for (const edge of edges) {
    const ps = (vertices[edge.sourceVertex] as PlanVertex).parallelism;
    const pt = (vertices[edge.targetVertex] as PlanVertex).parallelism;
    const slotOfEdge = (vertices[edge.sourceVertex] as PlanVertex).outEdges.indexOf(edge);
    for (const [s, t] of channelPairs(edge.partitioner, ps, pt)) {
      const targetInputs = (inputsOf[edge.targetVertex] as PlanChannel[][])[t] as PlanChannel[];
      const sourceOutputs = ((outputsOf[edge.sourceVertex] as PlanChannel[][][])[s] as PlanChannel[][])[
        slotOfEdge
      ] as PlanChannel[];
      const channel: PlanChannel = {
        id: channels.length,
        edge: edge.id,
        sourceShard: s,
        targetShard: t,
        inputChannel: targetInputs.length,
        outputSlot: sourceOutputs.length,
      };
      channels.push(channel);
      targetInputs.push(channel);
      sourceOutputs.push(channel);
    }
  }

  return {
    jobName: graph.name,
    autoWatermarkIntervalMs: graph.autoWatermarkIntervalMs,
    vertices,
    edges,
    channels,
    inputsOf,
    outputsOf,
    parallelismOf,
  };
}

/** Which inputs of an operator must be keyed. */
function keyedInputs(node: OperatorNode): number[] {
  if (KEYED_KINDS.has(node.spec.kind)) return node.spec.kind === "keyedCoProcess" ? [0, 1] : [0];
  if (node.spec.kind === "broadcastProcess" && node.spec.keyed) return [0];
  return [];
}

/** The (source shard, target shard) pairs an edge connects. */
function channelPairs(partitioner: ResolvedPartitioner, ps: number, pt: number): Array<[number, number]> {
  const pairs: Array<[number, number]> = [];
  if (partitioner.kind === "forward") {
    for (let s = 0; s < ps; s++) pairs.push([s, s]);
  } else if (partitioner.kind === "rescale") {
    // Each source feeds a contiguous group of targets (or groups of sources feed one target).
    if (ps <= pt) {
      for (let t = 0; t < pt; t++) pairs.push([Math.floor((t * ps) / pt), t]);
    } else {
      for (let s = 0; s < ps; s++) pairs.push([s, Math.floor((s * pt) / ps)]);
    }
    pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  } else {
    for (let s = 0; s < ps; s++) for (let t = 0; t < pt; t++) pairs.push([s, t]);
  }
  return pairs;
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

/** The key selector of a hash or custom partitioned edge. */
export function keySelectorOfEdge(edge: PlanEdge): ((value: unknown) => Key) | undefined {
  return edge.partitioner.kind === "hash" || edge.partitioner.kind === "custom" ? edge.partitioner.key : undefined;
}
