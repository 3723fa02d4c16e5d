import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Collector, collectSink, defineJob, listState, valueState } from "@keyflow/functions-sdk";
import { execute } from "../../src/index.js";

describe("union", () => {
  it("merges streams of one type, keeping each input's order", async () => {
    const out = collectSink<string>("out");
    const job = defineJob("union", (env) => {
      const a = env.fromCollection(["a1", "a2", "a3"]);
      const b = env.fromCollection(["b1", "b2"]);
      const c = env.generate({ count: 4, make: (i) => `c${i}` }).setParallelism(2);
      a.union(b, c)
        .map((x) => x)
        .collect(out);
    });
    const result = await execute(job);
    const values = result.get(out);
    assert.deepEqual([...values].sort(), ["a1", "a2", "a3", "b1", "b2", "c0", "c1", "c2", "c3"]);
    assert.deepEqual(
      values.filter((v) => v.startsWith("a")),
      ["a1", "a2", "a3"],
    );
    assert.deepEqual(
      values.filter((v) => v.startsWith("b")),
      ["b1", "b2"],
    );
  });
});

describe("connect", () => {
  it("maps each input with its own function into one output with co-map", async () => {
    const out = collectSink<string>("out");
    const job = defineJob("co-map", (env) => {
      const numbers = env.fromCollection([1, 2, 3]);
      const words = env.fromCollection(["x", "yy"]);
      numbers
        .connect(words)
        .map({ map1: (n) => `number ${n}`, map2: (w) => `word ${w}` })
        .collect(out);
    });
    const result = await execute(job);
    assert.deepEqual(result.get(out).sort(), ["number 1", "number 2", "number 3", "word x", "word yy"]);
  });

  it("emits any number of records per input with co-flat-map", async () => {
    const out = collectSink<number>("out");
    const job = defineJob("co-flat-map", (env) => {
      const numbers = env.fromCollection([1, 2]);
      const words = env.fromCollection(["abc"]);
      numbers
        .connect(words)
        .flatMap({
          flatMap1(n: number, collector: Collector<number>) {
            for (let i = 0; i < n; i++) collector.collect(n);
          },
          flatMap2(w: string, collector: Collector<number>) {
            for (const ch of w) collector.collect(ch.charCodeAt(0));
          },
        })
        .collect(out);
    });
    const result = await execute(job);
    assert.deepEqual(
      result.get(out).sort((a, b) => a - b),
      [1, 2, 2, 97, 98, 99],
    );
  });

  it("gives a co-process function a context with side outputs and timestamps on both inputs", async () => {
    const out = collectSink<string>("out");
    const job = defineJob("co-process", (env) => {
      const numbers = env.generate({ count: 2, make: (i) => i, timestamp: (_v, i) => 10 + i });
      const words = env.fromCollection(["w"]);
      numbers
        .connect(words)
        .process({
          processElement1(n: number, ctx, collector: Collector<string>) {
            collector.collect(`1:${n}@${ctx.timestamp}`);
          },
          processElement2(w: string, ctx, collector: Collector<string>) {
            collector.collect(`2:${w}@${ctx.timestamp}`);
          },
        })
        .collect(out);
    });
    const result = await execute(job);
    assert.deepEqual(result.get(out).sort(), ["1:0@10", "1:1@11", "2:w@undefined"]);
  });

  it("lets a keyed co-process function share the key's state between both inputs", async () => {
    interface Order {
      readonly orderId: string;
      readonly amount: number;
    }
    interface Payment {
      readonly order: string;
      readonly paid: number;
    }
    const matched = collectSink<string>("matched");
    const orders: Order[] = Array.from({ length: 200 }, (_, i) => ({ orderId: `o${i}`, amount: i }));
    const payments: Payment[] = orders.map((o) => ({ order: o.orderId, paid: o.amount })).reverse();
    const job = defineJob("join", (env) => {
      const o = env.fromSource<Order>(
        {
          createReader: (c) => {
            let i = c.shardIndex;
            return {
              poll(output) {
                if (i < orders.length) output.collect(orders[i] as Order);
                i += c.parallelism;
                return i < orders.length ? "more" : "end";
              },
            };
          },
        },
        "Orders",
      );
      const p = env.fromCollection(payments, "Payments");
      o.setParallelism(2)
        .connect(p)
        .keyBy(
          (order) => order.orderId,
          (payment) => payment.order,
        )
        .process({
          state: { order: valueState<Order>(), payments: listState<Payment>() },
          processElement1(order, ctx, collector: Collector<string>) {
            assert.equal(ctx.key, order.orderId);
            const waiting = ctx.state.payments.get();
            if (waiting.length > 0) {
              collector.collect(`${ctx.key}:${order.amount}=${waiting[0]?.paid}`);
              ctx.state.payments.clear();
            } else ctx.state.order.update(order);
          },
          processElement2(payment, ctx, collector) {
            assert.equal(ctx.key, payment.order);
            const order = ctx.state.order.value();
            if (order !== undefined) {
              collector.collect(`${ctx.key}:${order.amount}=${payment.paid}`);
              ctx.state.order.clear();
            } else ctx.state.payments.add(payment);
          },
        })
        .setParallelism(3)
        .collect(matched);
    });
    const result = await execute(job);
    assert.deepEqual(result.get(matched).sort(), orders.map((o) => `${o.orderId}:${o.amount}=${o.amount}`).sort());
  });
});
