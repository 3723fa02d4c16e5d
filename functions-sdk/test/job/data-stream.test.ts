import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  collectionSource,
  collectSink,
  defineJob,
  type EdgeSpec,
  InvalidJobError,
  type JobGraph,
  mapState,
  type OperatorNode,
  outputTag,
  type StreamEnvironment,
  valueState,
} from "../../src/index.js";

function graphOf(build: (env: StreamEnvironment) => void): JobGraph {
  return defineJob("test", build).build();
}

function node(graph: JobGraph, name: string): OperatorNode {
  const found = graph.nodes.find((n) => n.name === name);
  assert.ok(found, `no operator named ${name} in ${graph.nodes.map((n) => n.name).join(", ")}`);
  return found;
}

function onlyEdge(n: OperatorNode): EdgeSpec {
  assert.equal(n.inputs.length, 1, `${n.name} has ${n.inputs.length} inputs`);
  return n.inputs[0] as EdgeSpec;
}

function buildError(build: (env: StreamEnvironment) => void): InvalidJobError {
  try {
    graphOf(build);
  } catch (error) {
    assert.ok(error instanceof InvalidJobError, `expected an InvalidJobError, got ${String(error)}`);
    assert.equal(error.code, "JOB_INVALID");
    return error;
  }
  assert.fail("the job built without an error");
}

interface Reading {
  readonly id: string;
  readonly temperature: number;
  readonly note: string;
}

describe("DataStream", () => {
  it("adds one operator per call, with ids in creation order and default names and uids", () => {
    const graph = graphOf((env) => {
      env
        .fromCollection([1, 2, 3])
        .map((x) => x + 1)
        .filter((x) => x > 1)
        .flatMap((x, out) => out.collect(x))
        .print();
    });
    assert.deepEqual(
      graph.nodes.map((n) => [n.id, n.spec.kind, n.name, n.uid]),
      [
        [0, "source", "Collection", "source-0"],
        [1, "map", "Map", "map-1"],
        [2, "filter", "Filter", "filter-2"],
        [3, "flatMap", "FlatMap", "flatMap-3"],
        [4, "sink", "Print", "sink-4"],
      ],
    );
    assert.deepEqual(
      graph.nodes.map((n) => n.inputs.map((e) => e.from)),
      [[], [0], [1], [2], [3]],
    );
    assert.ok(graph.nodes.slice(1).every((n) => onlyEdge(n).partitioner.kind === "auto"));
  });

  it("applies name, uid, parallelism, max parallelism and chaining settings to the operator they follow", () => {
    const graph = graphOf((env) => {
      env
        .fromCollection([1])
        .map((x) => x)
        .name("Double")
        .uid("double-v1")
        .setParallelism(3)
        .setMaxParallelism(16)
        .startNewChain()
        .filter(() => true)
        .disableChaining()
        .print()
        .name("Out");
    });
    const double = node(graph, "Double");
    assert.equal(double.uid, "double-v1");
    assert.equal(double.uidSet, true);
    assert.equal(double.parallelism, 3);
    assert.equal(double.maxParallelism, 16);
    assert.equal(double.chaining, "head");
    assert.equal(node(graph, "Filter").chaining, "never");
    assert.equal(node(graph, "Out").spec.kind, "sink");
    assert.equal(node(graph, "Filter").uidSet, false);
  });

  it("keys a stream with a hash partitioner that carries the key selector", () => {
    const selector = (r: Reading) => r.id;
    const graph = graphOf((env) => {
      env
        .fromCollection<Reading>([])
        .keyBy(selector)
        .process({ processElement() {} });
    });
    const edge = onlyEdge(node(graph, "KeyedProcess"));
    assert.equal(edge.partitioner.kind, "hash");
    assert.equal((edge.partitioner as { key: unknown }).key, selector);
  });

  it("sets the partitioner of the next edge for forward, rebalance, rescale, shuffle, global, broadcast and custom", () => {
    const partition = (key: number, n: number) => key % n;
    const graph = graphOf((env) => {
      const s = env.fromCollection([1, 2, 3]);
      s.forward()
        .map((x) => x)
        .name("forward");
      s.rebalance()
        .map((x) => x)
        .name("rebalance");
      s.rescale()
        .map((x) => x)
        .name("rescale");
      s.shuffle()
        .map((x) => x)
        .name("shuffle");
      s.global()
        .map((x) => x)
        .name("global");
      s.broadcast()
        .map((x) => x)
        .name("broadcast");
      s.partitionCustom(partition, (x) => x)
        .map((x) => x)
        .name("custom");
      s.map((x) => x).name("auto");
    });
    for (const kind of ["forward", "rebalance", "rescale", "shuffle", "global", "broadcast", "custom", "auto"]) {
      assert.equal(onlyEdge(node(graph, kind)).partitioner.kind, kind);
    }
    const custom = onlyEdge(node(graph, "custom")).partitioner as { partition: unknown };
    assert.equal(custom.partition, partition);
  });

  it("merges the inputs of a union into one operator, keeping the union's partitioner", () => {
    const graph = graphOf((env) => {
      const a = env.fromCollection([1]).name("a");
      const b = env.fromCollection([2]).name("b");
      const c = env.fromCollection([3]).name("c");
      a.union(b, c)
        .rebalance()
        .map((x) => x)
        .name("merged");
    });
    const merged = node(graph, "merged");
    assert.deepEqual(
      merged.inputs.map((e) => [e.from, e.inputIndex, e.partitioner.kind]),
      [
        [0, 0, "rebalance"],
        [1, 0, "rebalance"],
        [2, 0, "rebalance"],
      ],
    );
  });

  it("reads a side output through an edge that names the tag", () => {
    const late = outputTag<number>("late");
    const graph = graphOf((env) => {
      const main = env.fromCollection([1]).process<number>({
        processElement(value, ctx, out) {
          ctx.output(late, value);
          out.collect(value);
        },
      });
      main.getSideOutput(late).print().name("late-sink");
      main.print().name("main-sink");
    });
    assert.equal(onlyEdge(node(graph, "late-sink")).sideOutput, "late");
    assert.equal(onlyEdge(node(graph, "main-sink")).sideOutput, undefined);
  });

  it("connects two streams into one operator with input 0 for the first and input 1 for the second", () => {
    const graph = graphOf((env) => {
      const numbers = env.fromCollection([1]);
      const words = env.fromCollection(["a"]);
      numbers.connect(words).map({ map1: (n) => n, map2: (w) => w.length });
      numbers.connect(words).keyBy(
        (n) => String(n),
        (w) => w,
      );
    });
    const coMap = node(graph, "CoMap");
    assert.deepEqual(
      coMap.inputs.map((e) => [e.from, e.inputIndex]),
      [
        [0, 0],
        [1, 1],
      ],
    );
  });

  it("connects keyed inputs with a hash partitioner on each side and shares declared state", () => {
    const graph = graphOf((env) => {
      const numbers = env.fromCollection([1]);
      const words = env.fromCollection(["a"]);
      numbers
        .connect(words)
        .keyBy(
          (n) => String(n),
          (w) => w,
        )
        .process({
          state: { seen: valueState<boolean>() },
          processElement1() {},
          processElement2() {},
        });
    });
    const co = node(graph, "KeyedCoProcess");
    assert.deepEqual(
      co.inputs.map((e) => [e.inputIndex, e.partitioner.kind]),
      [
        [0, "hash"],
        [1, "hash"],
      ],
    );
    assert.deepEqual(Object.keys((co.spec as { state: object }).state), ["seen"]);
  });

  it("connects a broadcast stream on input 1 with a broadcast partitioner and its state declarations", () => {
    const rules = { thresholds: mapState<string, number>() };
    const graph = graphOf((env) => {
      const readings = env.fromCollection<Reading>([]);
      const broadcast = env.fromCollection<[string, number]>([]).broadcast(rules);
      readings
        .keyBy((r) => r.id)
        .connect(broadcast)
        .process({ processElement() {}, processBroadcastElement() {} });
      readings.connect(broadcast).process({ processElement() {}, processBroadcastElement() {} });
    });
    const [keyed, plain] = graph.nodes.filter((n) => n.spec.kind === "broadcastProcess") as [
      OperatorNode,
      OperatorNode,
    ];
    assert.deepEqual(
      keyed.inputs.map((e) => [e.from, e.inputIndex, e.partitioner.kind]),
      [
        [0, 0, "hash"],
        [1, 1, "broadcast"],
      ],
    );
    assert.equal((keyed.spec as { keyed: boolean }).keyed, true);
    assert.equal((keyed.spec as { broadcastState: unknown }).broadcastState, rules);
    assert.equal((plain.spec as { keyed: boolean }).keyed, false);
    assert.equal(plain.inputs[0]?.partitioner.kind, "auto");
  });

  it("writes to a collect sink under a name that says which sink it is", () => {
    const sink = collectSink<number>("numbers");
    const graph = graphOf((env) => {
      env.fromCollection([1]).collect(sink);
      env.fromCollection([2]).sinkTo({ createWriter: () => ({ write() {} }) });
    });
    assert.deepEqual(
      graph.nodes.filter((n) => n.spec.kind === "sink").map((n) => n.name),
      ["Collect(numbers)", "Sink"],
    );
  });

  it("copies the collection when the job is built, so later changes to the array do not leak in", () => {
    const items = [1, 2];
    const source = collectionSource(items);
    items.push(3);
    const seen: number[] = [];
    const reader = source.createReader({
      operatorName: "s",
      shardIndex: 0,
      parallelism: 1,
      now: () => 0,
      sleep: () => Promise.resolve(),
    });
    assert.equal(reader.poll({ collect: (v) => seen.push(v) }, 10), "end");
    assert.deepEqual(seen, [1, 2]);
  });
});

describe("rolling aggregations of a KeyedStream", () => {
  interface Sale {
    readonly shop: string;
    readonly amount: number;
    readonly at: number;
  }
  const first: Sale = { shop: "a", amount: 5, at: 1 };
  const second: Sale = { shop: "a", amount: 3, at: 2 };
  const third: Sale = { shop: "a", amount: 9, at: 3 };
  const tie: Sale = { shop: "a", amount: 5, at: 4 };

  /** The reduce function a rolling aggregation puts in the graph, folded over the records as the runtime folds them. */
  function fold(aggregate: (keyed: ReturnType<typeof keyedSales>) => void, records: Sale[]): Sale[] {
    const graph = graphOf((env) => aggregate(keyedSales(env)));
    const spec = graph.nodes[1]?.spec;
    assert.equal(spec?.kind, "rollingReduce");
    const reduce = (spec as { reduce: (a: Sale, b: Sale) => Sale }).reduce;
    const emitted: Sale[] = [];
    let current: Sale | undefined;
    for (const record of records) {
      current = current === undefined ? record : reduce(current, record);
      emitted.push(current);
    }
    return emitted;
  }
  function keyedSales(env: StreamEnvironment) {
    return env.fromCollection<Sale>([]).keyBy((s) => s.shop);
  }

  it("sums one field and keeps the other fields of the key's first record", () => {
    assert.deepEqual(
      fold((k) => k.sum("amount"), [first, second, third]),
      [first, { shop: "a", amount: 8, at: 1 }, { shop: "a", amount: 17, at: 1 }],
    );
  });

  it("takes the minimum of a field with the other fields of the key's first record, as Flink's min does", () => {
    assert.deepEqual(
      fold((k) => k.min("amount"), [first, second, third]),
      [first, { shop: "a", amount: 3, at: 1 }, { shop: "a", amount: 3, at: 1 }],
    );
  });

  it("takes the maximum of a field with the other fields of the key's first record", () => {
    assert.deepEqual(
      fold((k) => k.max("amount"), [first, second, third]),
      [first, first, { shop: "a", amount: 9, at: 1 }],
    );
  });

  it("returns the whole record with the smallest field for minBy, the first one on ties", () => {
    assert.deepEqual(
      fold((k) => k.minBy("amount"), [first, tie, second, tie]),
      [first, first, second, second],
    );
  });

  it("returns the whole record with the largest field for maxBy, the first one on ties", () => {
    assert.deepEqual(
      fold((k) => k.maxBy("amount"), [first, tie, third, { ...third, at: 9 }]),
      [first, first, third, third],
    );
  });

  it("emits a new object when it changes a field, leaving the records it was given untouched", () => {
    const copyOfFirst = { ...first };
    const emitted = fold((k) => k.sum("amount"), [first, second]);
    assert.notEqual(emitted[1], first);
    assert.deepEqual(first, copyOfFirst);
  });

  it("sums a stream of numbers without a field, and names the field to use when records are not numbers", () => {
    const graph = graphOf((env) => {
      env
        .fromCollection([1, 2])
        .keyBy((x) => x % 2)
        .sum();
      env
        .fromCollection<Sale>([])
        .keyBy((s) => s.shop)
        .sum();
    });
    const reduceOf = (id: number) => {
      const spec = graph.nodes[id]?.spec;
      assert.equal(spec?.kind, "rollingReduce");
      return (spec as { reduce: (a: unknown, b: unknown) => unknown }).reduce;
    };
    const numbers = reduceOf(1);
    assert.equal(numbers(2, 3), 5);
    const objects = reduceOf(3);
    assert.throws(() => objects(first, second), /sum\(\) without a field needs a stream of numbers/);
  });
});

describe("building a job checks what can be checked before running", () => {
  it("rejects two operators with one uid, naming the second operator and the first", () => {
    const error = buildError((env) => {
      const s = env.fromCollection([1]);
      s.map((x) => x)
        .name("first-map")
        .uid("same");
      s.map((x) => x)
        .name("second-map")
        .uid("same");
    });
    assert.equal(error.operator, "second-map");
    assert.match(error.message, /uid "same" is also the uid of operator "first-map"/);
  });

  it("rejects an operator whose parallelism is above its max parallelism", () => {
    const error = buildError((env) => {
      env
        .fromCollection([1])
        .map((x) => x)
        .name("wide")
        .setParallelism(9)
        .setMaxParallelism(8);
    });
    assert.equal(error.operator, "wide");
    assert.match(error.message, /parallelism 9 is above its maxParallelism 8/);
  });

  it("rejects a job parallelism above the job's max parallelism", () => {
    const error = buildError((env) => {
      env.setParallelism(5).setMaxParallelism(4);
      env.fromCollection([1]).print();
    });
    assert.match(error.message, /job parallelism 5 is above the job's maxParallelism 4/);
  });

  it("rejects a parallelism that is not a positive integer", () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      const error = buildError((env) => {
        env
          .fromCollection([1])
          .map((x) => x)
          .name("odd")
          .setParallelism(bad);
      });
      assert.equal(error.operator, "odd");
    }
  });

  it("rejects keyed state declared on a non-keyed stream, naming the operator", () => {
    const error = buildError((env) => {
      const fn = { state: { count: valueState<number>() }, processElement() {} };
      env.fromCollection([1]).process(fn).name("Enrich");
    });
    assert.equal(error.operator, "Enrich");
    assert.match(error.message, /declares keyed state but its input is not keyed/);
  });

  it("rejects keyed state in a broadcast process function on a non-keyed stream, naming the operator", () => {
    const error = buildError((env) => {
      const broadcast = env.fromCollection([1]).broadcast({ rules: mapState<string, number>() });
      const fn = { state: { count: valueState<number>() }, processElement() {}, processBroadcastElement() {} };
      env.fromCollection([1]).connect(broadcast).process(fn).name("Rules");
    });
    assert.equal(error.operator, "Rules");
  });

  it("rejects a source asked for more parallelism than it supports", () => {
    const error = buildError((env) => {
      env.fromSource({ maxParallelism: 1, createReader: () => ({ poll: () => "end" }) }, "Single").setParallelism(2);
    });
    assert.equal(error.operator, "Single");
  });

  it("rejects an empty uid", () => {
    assert.throws(
      () =>
        graphOf((env) => {
          env.fromCollection([1]).uid("");
        }),
      (error: unknown) => error instanceof InvalidJobError && error.operator === "Collection",
    );
  });
});
