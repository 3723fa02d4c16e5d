import type { CollectSink, Sink, SinkSpec } from "../connector/sink.js";
import { InvalidJobError } from "../errors.js";
import type { OutputTag } from "../function/collector.js";
import type { AnyFunctionType } from "../function/define-function.js";
import type {
  BroadcastStateDeclarations,
  FilterFunction,
  FlatMapFunction,
  KeyedProcessFunction,
  MapFunction,
  Partitioner,
  ProcessFunction,
  ReduceFunction,
} from "../function/functions.js";
import type { Key, KeySelector } from "../key.js";
import type { StateDeclarations } from "../state/descriptors.js";
import type { WatermarkStrategy } from "../time/watermark-strategy.js";
import type { WindowAssigner } from "../window/assigner.js";
import { globalWindows } from "../window/assigner.js";
import { countEvictor } from "../window/evictor.js";
import { countTrigger, purgingTrigger } from "../window/trigger.js";
import type { GlobalWindow, Window } from "../window/window.js";
import { CoGroupedStreams } from "./co-group.js";
// connected-streams.ts imports this file back; neither extends a class of the other at load
// time, so the cycle is safe in any import order. KeyedStream extends DataStream, so it lives here.
import {
  BroadcastConnectedStream,
  BroadcastStream,
  ConnectedStreams,
  KeyedBroadcastConnectedStream,
} from "./connected-streams.js";
import { fieldCopier } from "./field-copy.js";
// functions-stream.ts imports this file back; it uses DataStream only when called, so the cycle is safe.
import { type FunctionsOptions, type FunctionsStream, functionsOperator } from "./functions-stream.js";
import type { EdgeSpec, OperatorNode, OperatorSpec, PartitionerSpec } from "./graph.js";
import type { GraphBuilder, StreamInput } from "./graph-builder.js";
import { INTERVAL_JOIN_NAME, IntervalJoin } from "./interval-join.js";
import { JoinedStreams } from "./join.js";
import { OperatorSettings } from "./operator-settings.js";
import { WindowedStream } from "./windowed-stream.js";

/**
 * A stream of records of type T: the result of a source or an operator, or a union of streams.
 * Methods add operators to the job graph and return the resulting stream; nothing runs until the
 * job is executed.
 */
export class DataStream<T> {
  /** @internal */
  constructor(
    protected readonly builder: GraphBuilder,
    /** @internal */ readonly inputs: readonly StreamInput[],
    /** @internal */ readonly partitioner: PartitionerSpec = { kind: "auto" },
  ) {}

  /** @internal Adds an operator fed by this stream on the given input. */
  protected apply<R>(spec: OperatorSpec, name?: string): OperatorStream<R> {
    const node = this.builder.add(spec, this.edges(0), name);
    return new OperatorStream<R>(this.builder, node);
  }

  /** @internal */
  edges(inputIndex: 0 | 1): EdgeSpec[] {
    return this.inputs.map((input) => ({
      from: input.from,
      inputIndex,
      partitioner: this.partitioner,
      sideOutput: input.sideOutput,
    }));
  }

  map<R>(fn: MapFunction<T, R>): OperatorStream<R> {
    return this.apply<R>({ kind: "map", fn });
  }

  filter(fn: FilterFunction<T>): OperatorStream<T> {
    return this.apply<T>({ kind: "filter", fn });
  }

  flatMap<R>(fn: FlatMapFunction<T, R>): OperatorStream<R> {
    return this.apply<R>({ kind: "flatMap", fn });
  }

  /**
   * A low-level function with side outputs. Keyed state needs `keyBy` first: a function that
   * declares `state` here fails the build (checked when the graph is finished, so the error
   * names the operator as the user named it).
   */
  process<R>(fn: ProcessFunction<T, R>): OperatorStream<R> {
    return this.apply<R>({ kind: "process", fn });
  }

  /**
   * Assigns event timestamps and generates watermarks in every shard of this stream (prefer a
   * strategy on `fromSource`, which generates them per split as the source reads).
   */
  assignTimestampsAndWatermarks(strategy: WatermarkStrategy<T>): OperatorStream<T> {
    return this.apply<T>({ kind: "timestampsAndWatermarks", strategy });
  }

  /** Partitions by key: every record with one key goes to the same shard and shares that key's state. */
  keyBy<K extends Key>(selector: KeySelector<T, K>): KeyedStream<T, K> {
    return new KeyedStream<T, K>(this.builder, this.inputs, selector);
  }

  /** Merges streams of one type; records from each keep their order. */
  union(...others: DataStream<T>[]): DataStream<T> {
    const inputs = [...this.inputs];
    for (const other of others) inputs.push(...other.inputs);
    return new DataStream<T>(this.builder, inputs, this.partitioner);
  }

  /** Joins two streams of possibly different types into one operator with two inputs. */
  connect<U>(other: DataStream<U>): ConnectedStreams<T, U>;
  /** Connects a broadcast stream: its elements reach every shard of the operator and may update broadcast state. */
  connect<U, B extends BroadcastStateDeclarations, K extends Key>(
    this: KeyedStream<T, K>,
    other: BroadcastStream<U, B>,
  ): KeyedBroadcastConnectedStream<T, K, U, B>;
  connect<U, B extends BroadcastStateDeclarations>(other: BroadcastStream<U, B>): BroadcastConnectedStream<T, U, B>;
  connect<U, B extends BroadcastStateDeclarations>(
    other: DataStream<U> | BroadcastStream<U, B>,
  ): ConnectedStreams<T, U> | BroadcastConnectedStream<T, U, B> | KeyedBroadcastConnectedStream<T, Key, U, B> {
    if (other instanceof BroadcastStream) {
      if (this instanceof KeyedStream)
        return new KeyedBroadcastConnectedStream<T, Key, U, B>(this.builder, this, other);
      return new BroadcastConnectedStream<T, U, B>(this.builder, this, other);
    }
    return new ConnectedStreams<T, U>(this.builder, this, other);
  }

  /** Joins with another stream per key and window: `.where(k1).equalTo(k2).window(assigner).apply(fn)`. */
  join<U>(other: DataStream<U>): JoinedStreams<T, U> {
    return new JoinedStreams<T, U>(this, other);
  }

  /** Groups with another stream per key and window: `.where(k1).equalTo(k2).window(assigner).apply(fn)`. */
  coGroup<U>(other: DataStream<U>): CoGroupedStreams<T, U> {
    return new CoGroupedStreams<T, U>(this, other);
  }

  /**
   * With no argument: every record goes to every shard of the next operator.
   * With broadcast state declarations: a broadcast stream to `connect` to another stream.
   */
  broadcast(): DataStream<T>;
  broadcast<B extends BroadcastStateDeclarations>(state: B): BroadcastStream<T, B>;
  broadcast<B extends BroadcastStateDeclarations>(state?: B): DataStream<T> | BroadcastStream<T, B> {
    if (state === undefined) return this.partitionWith({ kind: "broadcast" });
    return new BroadcastStream<T, B>(this.builder, this.inputs, state);
  }

  /** Shard i sends to shard i of the next operator, which must have the same parallelism. */
  forward(): DataStream<T> {
    return this.partitionWith({ kind: "forward" });
  }
  /** Round-robin over all shards of the next operator. */
  rebalance(): DataStream<T> {
    return this.partitionWith({ kind: "rebalance" });
  }
  /** Round-robin over a subset of the next operator's shards (local groups). */
  rescale(): DataStream<T> {
    return this.partitionWith({ kind: "rescale" });
  }
  /** A random shard per record. */
  shuffle(): DataStream<T> {
    return this.partitionWith({ kind: "shuffle" });
  }
  /** Everything to shard 0 of the next operator. */
  global(): DataStream<T> {
    return this.partitionWith({ kind: "global" });
  }
  /** Chooses the shard with a function of the record's key. */
  partitionCustom<K extends Key>(partitioner: Partitioner<K>, key: KeySelector<T, K>): DataStream<T> {
    return this.partitionWith({
      kind: "custom",
      key: key as KeySelector<unknown, Key>,
      partition: partitioner as Partitioner<Key>,
    });
  }

  private partitionWith(partitioner: PartitionerSpec): DataStream<T> {
    return new DataStream<T>(this.builder, this.inputs, partitioner);
  }

  /**
   * Routes every record to a per-key function: a functions operator hosting `functions`, which
   * may message each other in any cycle. `route` turns a record into `{ to: address, message }`
   * (checked: the address must accept the message). Add more ingress with `.ingress(stream, route)`;
   * read what handlers emit with `.egress(tag)`.
   */
  toFunctions<const Fs extends readonly AnyFunctionType[]>(options: FunctionsOptions<T, Fs>): FunctionsStream<Fs> {
    return functionsOperator(this.builder, this, options);
  }

  /** Writes every record to a sink. */
  sinkTo(sink: Sink<T> | CollectSink<T>): SinkOperator {
    const spec: SinkSpec =
      "kind" in sink && sink.kind === "collect" ? sink : { kind: "user", sink: sink as Sink<unknown> };
    const node = this.builder.add(
      { kind: "sink", sink: spec },
      this.edges(0),
      spec.kind === "collect" ? `Collect(${spec.name})` : "Sink",
    );
    return new SinkOperator(node);
  }

  /** Prints each record on standard output, prefixed with the shard ("2> ...") as Flink does. */
  print(prefix?: string): SinkOperator {
    const node = this.builder.add({ kind: "sink", sink: { kind: "print", prefix } }, this.edges(0), "Print");
    return new SinkOperator(node);
  }

  /** Gathers every record into the job's result under the sink's name. */
  collect(sink: CollectSink<T>): SinkOperator {
    return this.sinkTo(sink);
  }

  /** Consumes records and does nothing (benchmarks). */
  discard(): SinkOperator {
    const node = this.builder.add({ kind: "sink", sink: { kind: "discard" } }, this.edges(0), "Discard");
    return new SinkOperator(node);
  }
}

export class SinkOperator extends OperatorSettings<SinkOperator> {
  protected self(): SinkOperator {
    return this;
  }
}

/** The stream an operator produces; its settings apply to that operator. */
export class OperatorStream<T> extends DataStream<T> {
  /** @internal */
  constructor(
    builder: GraphBuilder,
    /** @internal */ readonly node: OperatorNode,
  ) {
    super(builder, [{ from: node.id, sideOutput: undefined }]);
  }

  /** Records this operator emitted with `ctx.output(tag, value)`. */
  getSideOutput<X>(tag: OutputTag<X>): DataStream<X> {
    return new DataStream<X>(this.builder, [{ from: this.node.id, sideOutput: tag.id }]);
  }

  uid(uid: string): this {
    if (uid.length === 0) throw new InvalidJobError(this.node.name, "uid must not be empty");
    this.node.uid = uid;
    this.node.uidSet = true;
    return this;
  }
  name(name: string): this {
    this.node.name = name;
    return this;
  }
  setParallelism(parallelism: number): this {
    this.node.parallelism = parallelism;
    return this;
  }
  setMaxParallelism(maxParallelism: number): this {
    this.node.maxParallelism = maxParallelism;
    return this;
  }
  startNewChain(): this {
    this.node.chaining = "head";
    return this;
  }
  disableChaining(): this {
    this.node.chaining = "never";
    return this;
  }
}

/** The names of T's number-valued fields. */
export type NumericField<T> = { [F in keyof T]-?: T[F] extends number ? F : never }[keyof T];

/**
 * A stream partitioned by key. Rolling aggregations and keyed process functions keep state per
 * key; `map`, `filter` and the rest work as on any stream (their output is no longer keyed).
 */
export class KeyedStream<T, K extends Key> extends DataStream<T> {
  /** @internal */
  constructor(
    builder: GraphBuilder,
    inputs: readonly StreamInput[],
    /** @internal */ readonly keySelector: KeySelector<T, K>,
  ) {
    super(builder, inputs, { kind: "hash", key: keySelector as KeySelector<unknown, Key> });
  }

  /** A process function with per-key state, declared in its `state` field. */
  override process<R, S extends StateDeclarations = Record<never, never>>(
    fn: KeyedProcessFunction<K, T, R, S>,
  ): OperatorStream<R> {
    const state = (fn as { state?: StateDeclarations }).state ?? {};
    return this.apply<R>({ kind: "keyedProcess", fn, state });
  }

  /** Joins with another stream keyed alike on time: `.between(lowerMs, upperMs).process(fn)`. */
  intervalJoin<U>(other: KeyedStream<U, K>): IntervalJoin<T, U, K> {
    if (!(other instanceof KeyedStream)) {
      throw new InvalidJobError(INTERVAL_JOIN_NAME, "both inputs must be keyed: call keyBy on the other stream too");
    }
    return new IntervalJoin<T, U, K>(this, other);
  }

  /** Cuts the keyed stream into windows; give the window a function to compute per firing. */
  window<W extends Window>(assigner: WindowAssigner<T, W>): WindowedStream<T, K, W> {
    return new WindowedStream<T, K, W>(this.builder, this.edges(0), assigner);
  }

  /**
   * Windows of `size` records per key: each fires when it is full. With `slide`, a window of the
   * last `size` records fires every `slide` records.
   */
  countWindow(size: number, slide?: number): WindowedStream<T, K, GlobalWindow> {
    const windowed = this.window(globalWindows<T>());
    if (slide === undefined) return windowed.trigger(purgingTrigger(countTrigger<T, GlobalWindow>(size)));
    return windowed.evictor(countEvictor<T, GlobalWindow>(size)).trigger(countTrigger<T, GlobalWindow>(slide));
  }

  /** Folds each record into the key's running value and emits the new value. */
  reduce(reduce: ReduceFunction<T>): OperatorStream<T> {
    return this.apply<T>({ kind: "rollingReduce", reduce }, "Reduce");
  }

  /** Running sum per key: of the records (a stream of numbers) or of one field (other fields from the key's first record). */
  sum(field?: NumericField<T>): OperatorStream<T> {
    if (field === undefined) return this.rolling("Sum", (a, b) => (numeric("sum", a) + numeric("sum", b)) as T);
    const copy = fieldCopier(field);
    return this.rolling("Sum", (a, b) => copy(a, (a[field] as number) + (b[field] as number)) as T, field, "sum");
  }

  /** Running minimum per key: of the records, or of one field (other fields from the key's first record). */
  min(field?: NumericField<T>): OperatorStream<T> {
    if (field === undefined) return this.rolling("Min", (a, b) => (numeric("min", b) < numeric("min", a) ? b : a));
    const copy = fieldCopier(field);
    return this.rolling(
      "Min",
      (a, b) => ((b[field] as number) < (a[field] as number) ? (copy(a, b[field] as number) as T) : a),
      field,
      "min",
    );
  }

  /** Running maximum per key: of the records, or of one field (other fields from the key's first record). */
  max(field?: NumericField<T>): OperatorStream<T> {
    if (field === undefined) return this.rolling("Max", (a, b) => (numeric("max", b) > numeric("max", a) ? b : a));
    const copy = fieldCopier(field);
    return this.rolling(
      "Max",
      (a, b) => ((b[field] as number) > (a[field] as number) ? (copy(a, b[field] as number) as T) : a),
      field,
      "max",
    );
  }

  /** The whole record with the smallest `field` so far per key (the first one on ties). */
  minBy(field: NumericField<T>): OperatorStream<T> {
    return this.rolling("MinBy", (a, b) => ((b[field] as number) < (a[field] as number) ? b : a));
  }

  /** The whole record with the largest `field` so far per key (the first one on ties). */
  maxBy(field: NumericField<T>): OperatorStream<T> {
    return this.rolling("MaxBy", (a, b) => ((b[field] as number) > (a[field] as number) ? b : a));
  }

  private rolling(
    name: string,
    reduce: ReduceFunction<T>,
    field?: NumericField<T>,
    aggregation?: "sum" | "min" | "max",
  ): OperatorStream<T> {
    if (field === undefined || aggregation === undefined || typeof field !== "string") {
      return this.apply<T>({ kind: "rollingReduce", reduce }, name);
    }
    return this.apply<T>({ kind: "rollingReduce", reduce, field: { name: field, aggregation } }, name);
  }
}

function numeric(aggregation: string, value: unknown): number {
  if (typeof value !== "number") {
    throw new TypeError(
      `${aggregation}() without a field needs a stream of numbers; got a ${typeof value}: name the field to aggregate`,
    );
  }
  return value;
}
