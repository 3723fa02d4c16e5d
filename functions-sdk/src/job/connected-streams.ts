import type {
  BroadcastProcessFunction,
  BroadcastStateDeclarations,
  CoFlatMapFunction,
  CoMapFunction,
  CoProcessFunction,
  KeyedBroadcastProcessFunction,
  KeyedCoProcessFunction,
} from "../function/functions.js";
import type { Key, KeySelector } from "../key.js";
import type { StateDeclarations } from "../state/descriptors.js";
import { type DataStream, type KeyedStream, OperatorStream } from "./data-stream.js";
import type { OperatorSpec } from "./graph.js";
import type { GraphBuilder, StreamInput } from "./graph-builder.js";

/** Two streams feeding one two-input operator: input 1 is the first stream, input 2 the second. */
export class ConnectedStreams<A, B> {
  /** @internal */
  constructor(
    private readonly builder: GraphBuilder,
    readonly first: DataStream<A>,
    readonly second: DataStream<B>,
  ) {}

  private apply<R>(spec: OperatorSpec): OperatorStream<R> {
    const node = this.builder.add(spec, [...this.first.edges(0), ...this.second.edges(1)]);
    return new OperatorStream<R>(this.builder, node);
  }

  /** Keys both inputs, so records with equal keys meet in one shard and share its keyed state. */
  keyBy<K extends Key>(first: KeySelector<A, K>, second: KeySelector<B, K>): KeyedConnectedStreams<A, B, K> {
    return new KeyedConnectedStreams<A, B, K>(this.builder, this.first.keyBy(first), this.second.keyBy(second));
  }

  map<R>(fn: CoMapFunction<A, B, R>): OperatorStream<R> {
    return this.apply<R>({ kind: "coMap", fn });
  }
  flatMap<R>(fn: CoFlatMapFunction<A, B, R>): OperatorStream<R> {
    return this.apply<R>({ kind: "coFlatMap", fn });
  }
  process<R>(fn: CoProcessFunction<A, B, R>): OperatorStream<R> {
    return this.apply<R>({ kind: "coProcess", fn });
  }
}

/** Two streams keyed alike. */
export class KeyedConnectedStreams<A, B, K extends Key> {
  /** @internal */
  constructor(
    private readonly builder: GraphBuilder,
    readonly first: KeyedStream<A, K>,
    readonly second: KeyedStream<B, K>,
  ) {}

  private apply<R>(spec: OperatorSpec): OperatorStream<R> {
    const node = this.builder.add(spec, [...this.first.edges(0), ...this.second.edges(1)]);
    return new OperatorStream<R>(this.builder, node);
  }

  map<R>(fn: CoMapFunction<A, B, R>): OperatorStream<R> {
    return this.apply<R>({ kind: "coMap", fn });
  }
  flatMap<R>(fn: CoFlatMapFunction<A, B, R>): OperatorStream<R> {
    return this.apply<R>({ kind: "coFlatMap", fn });
  }
  /** A co-process function with the key's declared state, shared by both inputs. */
  process<R, S extends StateDeclarations = Record<never, never>>(
    fn: KeyedCoProcessFunction<K, A, B, R, S>,
  ): OperatorStream<R> {
    return this.apply<R>({ kind: "keyedCoProcess", fn, state: fn.state ?? {} });
  }
}

/** A stream whose every record goes to every shard of the operator it is connected to, with broadcast state. */
export class BroadcastStream<T, B extends BroadcastStateDeclarations> {
  /** Phantom: the element type. */
  declare readonly __type?: T;
  /** @internal */
  constructor(
    readonly builder: GraphBuilder,
    /** @internal */ readonly inputs: readonly StreamInput[],
    readonly state: B,
  ) {}
}

/** A non-keyed stream connected to a broadcast stream: the broadcast-state pattern without keyed state. */
export class BroadcastConnectedStream<T, U, B extends BroadcastStateDeclarations> {
  /** @internal */
  constructor(
    private readonly builder: GraphBuilder,
    private readonly stream: DataStream<T>,
    private readonly broadcast: BroadcastStream<U, B>,
  ) {}

  /** Keyed state needs `keyBy` before `connect`: a function that declares `state` here fails the build. */
  process<R>(fn: BroadcastProcessFunction<T, U, R, B>): OperatorStream<R> {
    return addBroadcastProcess<R, T, U, B>(this.builder, this.stream, this.broadcast, fn, false, {});
  }
}

/** A keyed stream connected to a broadcast stream: rules on every shard, applied per key with keyed state. */
export class KeyedBroadcastConnectedStream<T, K extends Key, U, B extends BroadcastStateDeclarations> {
  /** @internal */
  constructor(
    private readonly builder: GraphBuilder,
    private readonly stream: KeyedStream<T, K>,
    private readonly broadcast: BroadcastStream<U, B>,
  ) {}

  process<R, S extends StateDeclarations = Record<never, never>>(
    fn: KeyedBroadcastProcessFunction<K, T, U, R, B, S>,
  ): OperatorStream<R> {
    return addBroadcastProcess<R, T, U, B>(this.builder, this.stream, this.broadcast, fn, true, fn.state ?? {});
  }
}

function addBroadcastProcess<R, T, U, B extends BroadcastStateDeclarations>(
  builder: GraphBuilder,
  stream: DataStream<T>,
  broadcast: BroadcastStream<U, B>,
  fn: unknown,
  keyed: boolean,
  state: StateDeclarations,
): OperatorStream<R> {
  const broadcastEdges = broadcast.inputs.map((input) => ({
    from: input.from,
    inputIndex: 1 as const,
    partitioner: { kind: "broadcast" as const },
    sideOutput: input.sideOutput,
  }));
  const node = builder.add({ kind: "broadcastProcess", fn, keyed, state, broadcastState: broadcast.state }, [
    ...stream.edges(0),
    ...broadcastEdges,
  ]);
  return new OperatorStream<R>(builder, node);
}
