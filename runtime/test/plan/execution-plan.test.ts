import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defineJob, type EdgeSpec, InvalidJobError, type StreamEnvironment, valueState } from "@keyflow/functions-sdk";
import {
  buildExecutionPlan,
  type ExecutionPlan,
  type PlanChannel,
  type PlanOptions,
} from "../../src/plan/execution-plan.js";

function planOf(build: (env: StreamEnvironment) => void, options: PlanOptions = {}): ExecutionPlan {
  return buildExecutionPlan(defineJob("plan", build).build(), options);
}

/** Vertex names: operators of one chain joined by " -> ". */
const chains = (plan: ExecutionPlan) => plan.vertices.map((v) => v.name);

function planError(build: (env: StreamEnvironment) => void, options: PlanOptions = {}): InvalidJobError {
  try {
    planOf(build, options);
  } catch (error) {
    assert.ok(error instanceof InvalidJobError, `expected InvalidJobError, got ${String(error)}`);
    assert.equal(error.code, "JOB_INVALID");
    return error;
  }
  assert.fail("the plan was built without an error");
}

const id = <T>(x: T) => x;

describe("execution plan chaining", () => {
  it("chains operators joined by forward edges of equal parallelism into one vertex", () => {
    const plan = planOf((env) => {
      env.setParallelism(2);
      env
        .fromSource({ createReader: () => ({ poll: () => "end" }) }, "Src")
        .map(id)
        .name("M")
        .filter(Boolean)
        .name("F")
        .print();
    });
    assert.deepEqual(chains(plan), ["Src -> M -> F -> Print"]);
    assert.equal(plan.edges.length, 0);
    assert.equal(plan.vertices[0]?.parallelism, 2);
  });

  it("breaks the chain at startNewChain but chains what follows it", () => {
    const plan = planOf((env) => {
      env.fromCollection([1]).map(id).name("A").map(id).name("B").startNewChain().map(id).name("C").discard();
    });
    assert.deepEqual(chains(plan), ["Collection -> A", "B -> C -> Discard"]);
    assert.equal(plan.edges[0]?.partitioner.kind, "forward");
  });

  it("chains an operator with disableChaining to neither its input nor its output", () => {
    const plan = planOf((env) => {
      env.fromCollection([1]).map(id).name("A").map(id).name("Alone").disableChaining().map(id).name("C").discard();
    });
    assert.deepEqual(chains(plan), ["Collection -> A", "Alone", "C -> Discard"]);
  });

  it("breaks the chain at a keyBy", () => {
    const plan = planOf((env) => {
      env
        .fromCollection([1, 2])
        .keyBy((x) => x)
        .sum()
        .name("Sum")
        .map(id)
        .name("After")
        .discard();
    });
    assert.deepEqual(chains(plan), ["Collection", "Sum -> After -> Discard"]);
    assert.equal(plan.edges[0]?.partitioner.kind, "hash");
  });

  it("breaks the chain where parallelism changes, and rebalances there", () => {
    const plan = planOf((env) => {
      env
        .fromCollection([1])
        .map(id)
        .name("Wide")
        .setParallelism(3)
        .map(id)
        .name("Narrow")
        .setParallelism(2)
        .discard()
        .setParallelism(2);
    });
    assert.deepEqual(chains(plan), ["Collection", "Wide", "Narrow -> Discard"]);
    assert.deepEqual(
      plan.edges.map((e) => e.partitioner.kind),
      ["rebalance", "rebalance"],
    );
  });

  it("does not chain an explicit rebalance, rescale, shuffle, broadcast or global edge of equal parallelism", () => {
    for (const partition of ["rebalance", "rescale", "shuffle", "broadcast", "global"] as const) {
      const plan = planOf((env) => {
        const s = env.fromCollection([1]);
        s[partition]().map(id).name("M").discard();
      });
      assert.deepEqual(chains(plan), ["Collection", "M -> Discard"], partition);
      assert.equal(plan.edges[0]?.partitioner.kind, partition);
    }
  });

  it("does not chain an operator with two inputs, nor one fed by a side output", () => {
    const plan = planOf((env) => {
      const a = env.fromCollection([1]).name("A");
      const b = env.fromCollection([2]).name("B");
      a.union(b).map(id).name("Union").discard();
    });
    assert.deepEqual(chains(plan), ["A", "B", "Union -> Discard"]);
    assert.deepEqual(
      plan.edges.map((e) => e.partitioner.kind),
      ["forward", "forward"],
    );
  });

  it("lets one chained operator feed several consumers", () => {
    const plan = planOf((env) => {
      const m = env.fromCollection([1]).map(id).name("M");
      m.print().name("P1");
      m.discard().name("P2");
    });
    assert.deepEqual(chains(plan), ["Collection -> M -> P1 -> P2"]);
    const vertex = plan.vertices[0];
    const m = vertex?.operators.find((o) => o.name === "M");
    assert.deepEqual(
      vertex?.chained.get(m?.id ?? -1)?.map((o) => o.name),
      ["P1", "P2"],
    );
  });
});

describe("execution plan partitioners", () => {
  it('resolves "auto" to forward for equal parallelism and rebalance otherwise', () => {
    const plan = planOf((env) => {
      const s = env.fromCollection([1]).setParallelism(2).name("S");
      s.map(id).name("Same").setParallelism(2).disableChaining();
      s.map(id).name("Other").setParallelism(3);
    });
    const kindInto = (name: string) =>
      plan.edges.find((e) => plan.vertices[e.targetVertex]?.head.name === name)?.partitioner.kind;
    assert.equal(kindInto("Same"), "forward");
    assert.equal(kindInto("Other"), "rebalance");
  });

  it("takes the job's parallelism from the options over the job's default, and an operator's own over both", () => {
    const plan = planOf(
      (env) => {
        env.setParallelism(2);
        env.fromCollection([1]).map(id).name("Default").map(id).name("Own").setParallelism(5).discard();
      },
      { parallelism: 3 },
    );
    assert.deepEqual(
      plan.vertices.map((v) => [v.name, v.parallelism]),
      [
        ["Collection", 1],
        ["Default", 3],
        ["Own", 5],
        ["Discard", 3],
      ],
    );
  });
});

describe("execution plan channels", () => {
  function channelsInto(plan: ExecutionPlan, name: string): Array<[number, number]> {
    const edge = plan.edges.find((e) => plan.vertices[e.targetVertex]?.head.name === name);
    assert.ok(edge, `no edge into ${name}`);
    return plan.channels.filter((c) => c.edge === edge.id).map((c) => [c.sourceShard, c.targetShard]);
  }
  function pipeline(partition: (env: StreamEnvironment) => void) {
    return planOf(partition);
  }

  it("connects shard i to shard i on a forward edge", () => {
    const plan = pipeline((env) => {
      env.fromCollection([1]).setParallelism(3).forward().map(id).name("T").setParallelism(3).disableChaining();
    });
    assert.deepEqual(channelsInto(plan, "T"), [
      [0, 0],
      [1, 1],
      [2, 2],
    ]);
  });

  it("connects every source shard to every target shard on rebalance, shuffle, broadcast, global, hash and custom edges", () => {
    for (const kind of ["rebalance", "shuffle", "broadcast", "global", "hash", "custom"] as const) {
      const plan = pipeline((env) => {
        const s = env.fromCollection([1]).setParallelism(2);
        const partitioned =
          kind === "hash"
            ? s.keyBy((x) => x)
            : kind === "custom"
              ? s.partitionCustom(
                  (k: number, n) => k % n,
                  (x) => x,
                )
              : s[kind]();
        partitioned.map(id).name("T").setParallelism(3);
      });
      assert.deepEqual(
        channelsInto(plan, "T"),
        [
          [0, 0],
          [0, 1],
          [0, 2],
          [1, 0],
          [1, 1],
          [1, 2],
        ],
        kind,
      );
    }
  });

  it("connects each source shard to its own group of targets on rescale, or groups of sources to one target", () => {
    const up = pipeline((env) => {
      env.fromCollection([1]).setParallelism(2).rescale().map(id).name("T").setParallelism(6);
    });
    assert.deepEqual(channelsInto(up, "T"), [
      [0, 0],
      [0, 1],
      [0, 2],
      [1, 3],
      [1, 4],
      [1, 5],
    ]);
    const down = pipeline((env) => {
      env.fromCollection([1]).setParallelism(4).rescale().map(id).name("T").setParallelism(2);
    });
    assert.deepEqual(channelsInto(down, "T"), [
      [0, 0],
      [1, 0],
      [2, 1],
      [3, 1],
    ]);
  });

  it("numbers each target shard's input channels and each source shard's output slots from 0", () => {
    const plan = pipeline((env) => {
      const a = env.fromCollection([1]).setParallelism(2).name("A");
      const b = env.fromCollection([2]).setParallelism(1).name("B");
      a.rebalance().connect(b).map({ map1: id, map2: id }).name("T").setParallelism(2);
    });
    const target = plan.vertices.find((v) => v.head.name === "T");
    assert.ok(target);
    for (let shard = 0; shard < 2; shard++) {
      const inputs: readonly PlanChannel[] = plan.inputsOf[target.id]?.[shard] ?? [];
      assert.deepEqual(
        inputs.map((c) => c.inputChannel),
        inputs.map((_, i) => i),
      );
      assert.equal(inputs.length, 3, "two channels from A's shards, one from B");
    }
    for (const vertex of plan.vertices) {
      for (const [shard, perEdge] of (plan.outputsOf[vertex.id] ?? []).entries()) {
        for (const channels of perEdge) {
          assert.deepEqual(
            channels.map((c) => c.outputSlot),
            channels.map((_, i) => i),
          );
          assert.ok(channels.every((c) => c.sourceShard === shard));
        }
      }
    }
  });
});

describe("execution plan checks", () => {
  it("rejects a parallelism above maxParallelism, naming the operator", () => {
    const error = planError(
      (env) => {
        env.setMaxParallelism(4);
        env
          .fromCollection([1])
          .keyBy((x) => x)
          .sum()
          .name("Totals");
      },
      { parallelism: 5 },
    );
    assert.equal(error.operator, "Totals");
    assert.match(error.message, /parallelism 5 is above its maxParallelism 4/);
    const own = planError(
      (env) => {
        env.fromCollection([1]).map(id).name("Wide").setMaxParallelism(2);
      },
      { parallelism: 3 },
    );
    assert.equal(own.operator, "Wide");
  });

  it("rejects a forward edge between different parallelism, naming the operator", () => {
    const error = planError((env) => {
      env.fromCollection([1]).forward().map(id).name("Target").setParallelism(2);
    });
    assert.equal(error.operator, "Target");
    assert.match(error.message, /forward partitioning from "Collection" needs equal parallelism, got 1 and 2/);
  });

  it("rejects a keyed operator whose input is not hash-partitioned, naming the operator", () => {
    // The typed API cannot build this; a graph is plain data, so a hand-changed one can.
    const graph = defineJob("plan", (env) => {
      env
        .fromCollection([1])
        .keyBy((x) => x)
        .process({ state: { s: valueState<number>() }, processElement() {} })
        .name("Counter");
    }).build();
    const counter = graph.nodes.find((n) => n.name === "Counter");
    assert.ok(counter);
    counter.inputs[0] = { ...(counter.inputs[0] as EdgeSpec), partitioner: { kind: "rebalance" } };
    assert.throws(
      () => buildExecutionPlan(graph),
      (error: unknown) =>
        error instanceof InvalidJobError &&
        error.operator === "Counter" &&
        /uses keyed state but an input is not keyed/.test(error.message),
    );
  });

  it("is a pure function of the graph and options, so every thread computes the same plan", () => {
    const build = (env: StreamEnvironment) => {
      const s = env.fromCollection([1, 2, 3]).map((x) => x);
      s.keyBy((x) => x % 2)
        .sum()
        .print();
      s.rescale().map(id).setParallelism(4).print();
    };
    const strip = (plan: ExecutionPlan) =>
      JSON.stringify({
        v: plan.vertices.map((v) => [v.name, v.parallelism]),
        e: plan.edges.map((e) => [e.sourceVertex, e.targetVertex, e.partitioner.kind]),
        c: plan.channels,
      });
    assert.equal(strip(planOf(build, { parallelism: 3 })), strip(planOf(build, { parallelism: 3 })));
  });
});
