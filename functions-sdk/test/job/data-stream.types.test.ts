/**
 * Type behaviour of the job API, pinned for the compiler: this file is compiled with the package
 * (`tsc -b`), so an inference that changes makes an `Expect<Equal<...>>` fail, and a
 * `@ts-expect-error` that stops erroring breaks the build. The functions below are never called.
 */
import { it } from "node:test";
import {
  type AggregatingState,
  aggregatingState,
  type Collector,
  type DataStream,
  defineJob,
  type KeyedStream,
  type ListState,
  listState,
  type MapState,
  mapState,
  type OperatorStream,
  outputTag,
  type ReducingState,
  reducingState,
  type StreamEnvironment,
  type ValueState,
  valueState,
} from "../../src/index.js";

type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(_proof?: T): void {}

interface Reading {
  readonly id: string;
  readonly timestamp: number;
  readonly temperature: number;
  readonly location: { readonly room: string };
}
interface Alert {
  readonly id: string;
  readonly message: string;
}

function readings(env: StreamEnvironment): DataStream<Reading> {
  return env.fromCollection<Reading>([]);
}

export function keyByInfersTheKeyType(env: StreamEnvironment): void {
  const byId = readings(env).keyBy((r) => r.id);
  expectType<Equal<typeof byId, KeyedStream<Reading, string>>>();
  const byRoomAndId = readings(env).keyBy((r) => [r.location.room, r.id] as const);
  expectType<Equal<typeof byRoomAndId, KeyedStream<Reading, readonly [string, string]>>>();
  const byNumber = readings(env).keyBy((r) => r.timestamp);
  expectType<Equal<typeof byNumber, KeyedStream<Reading, number>>>();
  // @ts-expect-error a key must be a primitive or a tuple of primitives, not an object
  readings(env).keyBy((r) => r.location);
}

export function transformationsInferTheirOutputType(env: StreamEnvironment): void {
  const celsius = readings(env).map((r) => ({ id: r.id, celsius: ((r.temperature - 32) * 5) / 9 }));
  expectType<Equal<typeof celsius, OperatorStream<{ id: string; celsius: number }>>>();
  const hot = readings(env).filter((r) => r.temperature > 90);
  expectType<Equal<typeof hot, OperatorStream<Reading>>>();
  const words = env.fromCollection(["a b"]).flatMap((line: string, out: Collector<string>) => {
    for (const word of line.split(" ")) out.collect(word);
  });
  expectType<Equal<typeof words, OperatorStream<string>>>();
  const alerts = readings(env).process<Alert>({
    processElement(value, _ctx, out) {
      out.collect({ id: value.id, message: "hot" });
      // @ts-expect-error the collector takes the declared output type only
      out.collect(value);
    },
  });
  expectType<Equal<typeof alerts, OperatorStream<Alert>>>();
  const rich = readings(env).map({
    open(ctx) {
      expectType<Equal<typeof ctx.shardIndex, number>>();
    },
    map: (r: Reading) => r.temperature,
  });
  expectType<Equal<typeof rich, OperatorStream<number>>>();
  // @ts-expect-error map's function takes the stream's record type
  readings(env).map((r: number) => r);
  // @ts-expect-error union takes streams of the same type only
  readings(env).union(env.fromCollection([1]));
}

export function rollingAggregationsTakeNumericFieldsOnly(env: StreamEnvironment): void {
  const keyed = readings(env).keyBy((r) => r.id);
  const sums = keyed.sum("temperature");
  expectType<Equal<typeof sums, OperatorStream<Reading>>>();
  keyed.min("timestamp");
  keyed.maxBy("temperature");
  // @ts-expect-error id is a string field
  keyed.sum("id");
  // @ts-expect-error location is not a number
  keyed.max("location");
  // @ts-expect-error there is no such field
  keyed.sum("missing");
  // @ts-expect-error there is no such field
  keyed.minBy("missing");
  const totals = env
    .fromCollection([1, 2, 3])
    .keyBy((x) => x % 2)
    .sum();
  expectType<Equal<typeof totals, OperatorStream<number>>>();
  const reduced = keyed.reduce((a, b) => (a.temperature > b.temperature ? a : b));
  expectType<Equal<typeof reduced, OperatorStream<Reading>>>();
}

export function keyedProcessFunctionsSeeTheirDeclaredState(env: StreamEnvironment): void {
  const keyed = readings(env).keyBy((r) => r.id);
  const out = keyed.process({
    state: {
      count: valueState<number>({ defaultValue: 0 }),
      history: listState<number>(),
      byRoom: mapState<string, number>(),
      max: reducingState<number>((a, b) => Math.max(a, b)),
      average: aggregatingState<number, [number, number], number>({
        createAccumulator: () => [0, 0],
        add: (value, [sum, n]) => [sum + value, n + 1],
        getResult: ([sum, n]) => sum / n,
      }),
    },
    processElement(value, ctx, out: Collector<Alert>) {
      expectType<Equal<typeof ctx.key, string>>();
      expectType<Equal<typeof ctx.state.count, ValueState<number>>>();
      expectType<Equal<typeof ctx.state.history, ListState<number>>>();
      expectType<Equal<typeof ctx.state.byRoom, MapState<string, number>>>();
      expectType<Equal<typeof ctx.state.max, ReducingState<number>>>();
      expectType<Equal<typeof ctx.state.average, AggregatingState<number, number>>>();
      // @ts-expect-error nope was not declared
      ctx.state.nope;
      // @ts-expect-error count holds numbers
      ctx.state.count.update("one");
      ctx.state.count.update((ctx.state.count.value() ?? 0) + 1);
      out.collect({ id: value.id, message: `${ctx.state.count.value()}` });
    },
  });
  expectType<Equal<typeof out, OperatorStream<Alert>>>();

  // Without state, the output type may be given as the type argument.
  const explicit = keyed.process<Alert>({
    processElement(value, ctx, out) {
      expectType<Equal<typeof ctx.key, string>>();
      out.collect({ id: value.id, message: "x" });
    },
  });
  expectType<Equal<typeof explicit, OperatorStream<Alert>>>();
  // With state, both type arguments, when the output type is given as one.
  const declared = { count: valueState<number>() };
  keyed.process<Alert, typeof declared>({
    state: declared,
    processElement(value, ctx, out) {
      expectType<Equal<typeof ctx.state.count, ValueState<number>>>();
      out.collect({ id: value.id, message: "x" });
    },
  });

  const tupleKeyed = readings(env).keyBy((r) => [r.location.room, r.timestamp] as const);
  tupleKeyed.process<string>({
    processElement(_value, ctx, out) {
      expectType<Equal<typeof ctx.key, readonly [string, number]>>();
      out.collect(ctx.key[0]);
    },
  });
}

export function processOnANonKeyedStreamHasNoKeyAndNoState(env: StreamEnvironment): void {
  readings(env).process<Reading>({
    processElement(value, ctx, out) {
      // @ts-expect-error a non-keyed stream has no current key
      ctx.key;
      // @ts-expect-error a non-keyed stream has no keyed state
      ctx.state;
      expectType<Equal<typeof ctx.timestamp, number | undefined>>();
      out.collect(value);
    },
  });
}

export function sideOutputsAreTypedByTheirTag(env: StreamEnvironment): void {
  const tooHot = outputTag<{ id: string; temperature: number }>("too-hot");
  const main = readings(env).process<Reading>({
    processElement(value, ctx, out) {
      if (value.temperature > 100) ctx.output(tooHot, { id: value.id, temperature: value.temperature });
      // @ts-expect-error the tag carries its record type
      ctx.output(tooHot, "hot");
      out.collect(value);
    },
  });
  const side = main.getSideOutput(tooHot);
  expectType<Equal<typeof side, DataStream<{ id: string; temperature: number }>>>();
}

export function connectedStreamsTypeEachSide(env: StreamEnvironment): void {
  const numbers = env.fromCollection([1, 2]);
  const words = env.fromCollection(["a"]);
  const mapped = numbers.connect(words).map({ map1: (n) => n * 2, map2: (w) => w.length });
  expectType<Equal<typeof mapped, OperatorStream<number>>>();
  numbers
    .connect(words)
    .keyBy(
      (n) => String(n),
      (w) => w,
    )
    .process({
      state: { last: valueState<string>() },
      processElement1(value, ctx, out: Collector<string>) {
        expectType<Equal<typeof value, number>>();
        expectType<Equal<typeof ctx.key, string>>();
        expectType<Equal<typeof ctx.state.last, ValueState<string>>>();
        out.collect(String(value));
      },
      processElement2(value, ctx, out) {
        expectType<Equal<typeof value, string>>();
        ctx.state.last.update(value);
        out.collect(value);
      },
    });
  numbers.connect(words).keyBy(
    (n) => String(n),
    // @ts-expect-error both sides must be keyed by the same key type
    (w) => w.length,
  );
}

export function broadcastStateIsReadOnlyOnTheRecordSide(env: StreamEnvironment): void {
  const rules = env.fromCollection<[string, number]>([]).broadcast({ thresholds: mapState<string, number>() });
  readings(env)
    .keyBy((r) => r.id)
    .connect(rules)
    .process({
      state: { alerts: valueState<number>() },
      processElement(value, ctx, out: Collector<Alert>) {
        const threshold = ctx.broadcastState.thresholds.get(value.id);
        expectType<Equal<typeof threshold, number | undefined>>();
        expectType<Equal<typeof ctx.key, string>>();
        expectType<Equal<typeof ctx.state.alerts, ValueState<number>>>();
        // @ts-expect-error the record side cannot change broadcast state
        ctx.broadcastState.thresholds.put(value.id, 1);
        // @ts-expect-error the record side cannot clear broadcast state
        ctx.broadcastState.thresholds.clear();
        out.collect({ id: value.id, message: String(threshold) });
      },
      processBroadcastElement([id, threshold], ctx) {
        ctx.broadcastState.thresholds.put(id, threshold);
        // @ts-expect-error the broadcast side has no current key
        ctx.key;
      },
    });
  readings(env)
    .connect(rules)
    .process<Alert>({
      processElement(value, ctx) {
        // @ts-expect-error the record side cannot change broadcast state
        ctx.broadcastState.thresholds.remove(value.id);
        // @ts-expect-error a non-keyed broadcast connection has no keyed state
        ctx.state;
      },
      processBroadcastElement([id, threshold], ctx) {
        ctx.broadcastState.thresholds.put(id, threshold);
      },
    });
}

export function aJobIsDefinedByAName(): void {
  const job = defineJob("typed", (env) => {
    readings(env).print();
  });
  expectType<Equal<typeof job.name, string>>();
}

it("pins the job API's types at compile time (this file compiling is the test)", () => {});
