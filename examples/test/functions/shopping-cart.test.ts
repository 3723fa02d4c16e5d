import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defineFunction, defineJob, SeededRandom } from "@keyflow/functions-sdk";
import { execute, SimulatedClock } from "@keyflow/runtime";
import { createActor, SimulatedClock as XstateClock } from "xstate";
import {
  type CartAction,
  type CartEvent,
  cart,
  cartMachine,
  orderSink,
  orders,
  REMINDER_MS,
  reminderSink,
  reminders,
  shoppingCartJob,
} from "../../src/functions/shopping-cart.js";

const SKUS = ["apple", "pear", "fig", "plum"];

/** A seeded day of shoppers: 40 carts, 600 actions, mostly adds, some removes and checkouts. */
function seededActions(seed: number): CartAction[] {
  const random = new SeededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[random.nextUint32() % xs.length] as T;
  const actions: CartAction[] = [];
  for (let i = 0; i < 600; i++) {
    const cartId = `cart-${random.nextUint32() % 40}`;
    const roll = random.nextUint32() % 10;
    const event: CartEvent =
      roll < 6
        ? { type: "add", sku: pick(SKUS), qty: 1 + (random.nextUint32() % 3) }
        : roll < 9
          ? { type: "remove", sku: pick(SKUS) }
          : { type: "checkout" };
    actions.push({ cartId, event });
  }
  return actions;
}

/** The same actions through live xstate actors (one per cart, xstate's own simulated clock). */
function reference(actions: readonly CartAction[]) {
  const clock = new XstateClock();
  const placed: string[] = [];
  const reminded: string[] = [];
  const actors = new Map<string, ReturnType<typeof createActor<typeof cartMachine>>>();
  for (const { cartId, event } of actions) {
    let actor = actors.get(cartId);
    if (actor === undefined) {
      actor = createActor(cartMachine, { input: { cartId }, clock });
      actor.on("checkedOut", (e) => placed.push(JSON.stringify({ cartId, items: e.items })));
      actor.on("abandoned", (e) => reminded.push(JSON.stringify({ cartId, items: e.items })));
      actors.set(cartId, actor.start());
    }
    actor.send(event);
  }
  clock.increment(REMINDER_MS);
  return { placed: placed.sort(), reminded: reminded.sort() };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("the shopping cart (an xstate machine per cart)", () => {
  const actions = seededActions(7);
  const expected = reference(actions);

  for (const parallelism of [1, 3]) {
    it(`places the orders and reminds the abandoned carts a live actor would, at parallelism ${parallelism}`, async () => {
      assert.ok(expected.placed.length > 5 && expected.reminded.length > 5, "the seed exercises both");
      const clock = new SimulatedClock(0);
      let done = false;
      const run = execute(shoppingCartJob({ actions, print: false, parallelism }), {
        parallelism,
        workers: 0,
        clock,
      }).finally(() => {
        done = true;
      });
      for (let step = 0; step < 100 && !done; step++) {
        for (let i = 0; i < 5; i++) await settle();
        clock.advance(REMINDER_MS / 4);
      }
      const result = await run;
      const placed = result.get(orderSink).map((o) => JSON.stringify(o));
      const reminded = result.get(reminderSink).map(({ cartId, items }) => JSON.stringify({ cartId, items }));
      assert.deepEqual(placed.sort(), expected.placed);
      assert.deepEqual(reminded.sort(), expected.reminded);
      assert.ok(result.get(reminderSink).every((r) => r.at >= REMINDER_MS));
    });
  }

  it("reminds once after 30 minutes without activity, never after checkout or once the cart is empty", async () => {
    const MIN = 60_000;
    // [minute, cart, event]: each event is delivered to its cart at that minute of the simulated clock.
    const script: Array<[number, string, CartEvent]> = [
      [1, "c1", { type: "add", sku: "apple", qty: 1 }], // reminded at 31
      [1, "c2", { type: "add", sku: "pear", qty: 2 }],
      [10, "c2", { type: "checkout" }], // ordered; the reminder is cancelled
      [1, "c3", { type: "add", sku: "fig", qty: 1 }],
      [20, "c3", { type: "add", sku: "fig", qty: 1 }], // activity: reminded at 50, not 31
      [1, "c4", { type: "add", sku: "plum", qty: 1 }],
      [5, "c4", { type: "remove", sku: "plum" }], // empty: no reminder
      [1, "c5", { type: "add", sku: "apple", qty: 1 }], // reminded at 31
      [40, "c5", { type: "add", sku: "pear", qty: 1 }], // back from abandoned: reminded again at 70
    ];
    const shopper = defineFunction({
      type: "example/shopper",
      handle(ctx, [minute, cartId, event]: [number, string, CartEvent]) {
        ctx.sendAfter(minute * MIN, cart.address(cartId), event);
      },
    });
    const job = defineJob("scripted carts", (env) => {
      const functions = env.fromCollection(script).toFunctions({
        functions: [cart, shopper],
        route: (line) => ({ to: shopper.address(`${line[1]}@${line[0]}`), message: line }),
      });
      functions.egress(orders).collect(orderSink);
      functions.egress(reminders).collect(reminderSink);
    });
    const clock = new SimulatedClock(0);
    let done = false;
    const run = execute(job, { parallelism: 2, workers: 0, clock }).finally(() => {
      done = true;
    });
    for (let step = 0; step < 200 && !done; step++) {
      for (let i = 0; i < 5; i++) await settle();
      clock.advance(MIN);
    }
    const result = await run;
    assert.deepEqual(result.get(orderSink), [{ cartId: "c2", items: { pear: 2 } }]);
    const reminded = result.get(reminderSink).map((r) => `${r.cartId}@${r.at / MIN}:${JSON.stringify(r.items)}`);
    assert.deepEqual(reminded.sort(), [
      'c1@31:{"apple":1}',
      'c3@50:{"fig":2}',
      'c5@31:{"apple":1}',
      'c5@70:{"apple":1,"pear":1}',
    ]);
  });
});
