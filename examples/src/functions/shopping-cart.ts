/**
 * A shopping cart per cart id, written as an xstate machine (`fromMachine`): add and remove
 * items, check out (an order goes to the `orders` egress), and an abandoned-cart reminder when a
 * cart with items sees no activity for a while (`after`: a durable Keyflow delayed message, reset
 * by any activity, cancelled by checkout or by emptying the cart; the `reminders` egress).
 *
 * The machine is plain xstate: it runs the same in a live actor (`createActor(cartMachine)` and
 * `actor.on("checkedOut", ...)`), which the test uses as its reference.
 *
 * Run it: `npm run keyflow -- run examples/dist/src/functions/shopping-cart.js` (the job waits
 * for the reminders it scheduled: 2 s here).
 */
import { collectSink, defineJob, egress, fromMachine } from "@keyflow/functions-sdk";
import { assign, emit, setup } from "xstate";

export type CartEvent =
  | { readonly type: "add"; readonly sku: string; readonly qty: number }
  | { readonly type: "remove"; readonly sku: string }
  | { readonly type: "checkout" };

export type Items = Readonly<Record<string, number>>;

/** What the machine emits; `fromMachine`'s `on` turns them into egress. */
export type CartEmitted =
  | { readonly type: "checkedOut"; readonly items: Items }
  | { readonly type: "abandoned"; readonly items: Items };

export interface CartContext {
  readonly cartId: string;
  readonly items: Items;
}

/** How long a cart with items may sit untouched before the reminder (the machine's default). */
export const REMINDER_MS = 30 * 60_000;

export const cartMachine = setup({
  types: {
    context: {} as CartContext,
    events: {} as CartEvent,
    emitted: {} as CartEmitted,
    input: {} as { readonly cartId: string },
  },
  delays: { reminder: REMINDER_MS },
  actions: {
    addItem: assign({
      items: ({ context, event }) => {
        if (event.type !== "add") return context.items;
        return { ...context.items, [event.sku]: (context.items[event.sku] ?? 0) + event.qty };
      },
    }),
    removeItem: assign({
      items: ({ context, event }) => {
        if (event.type !== "remove") return context.items;
        const { [event.sku]: _, ...rest } = context.items;
        return rest;
      },
    }),
  },
  guards: {
    removesLastItem: ({ context, event }) =>
      event.type === "remove" && Object.keys(context.items).every((sku) => sku === event.sku),
  },
}).createMachine({
  id: "cart",
  context: ({ input }) => ({ cartId: input.cartId, items: {} }),
  initial: "empty",
  states: {
    empty: {
      on: { add: { target: "open", actions: "addItem" } },
    },
    open: {
      // Entering "open" schedules the reminder; leaving it (any transition below re-enters) cancels it.
      after: {
        reminder: {
          target: "abandoned",
          actions: emit(({ context }) => ({ type: "abandoned" as const, items: context.items })),
        },
      },
      on: {
        add: { target: "open", reenter: true, actions: "addItem" },
        remove: [
          { guard: "removesLastItem", target: "empty", actions: "removeItem" },
          { target: "open", reenter: true, actions: "removeItem" },
        ],
        checkout: {
          target: "checkedOut",
          actions: emit(({ context }) => ({ type: "checkedOut" as const, items: context.items })),
        },
      },
    },
    /** Reminded once; activity brings the cart back. */
    abandoned: {
      on: {
        add: { target: "open", actions: "addItem" },
        remove: [
          { guard: "removesLastItem", target: "empty", actions: "removeItem" },
          { target: "open", actions: "removeItem" },
        ],
        checkout: {
          target: "checkedOut",
          actions: emit(({ context }) => ({ type: "checkedOut" as const, items: context.items })),
        },
      },
    },
    /** Final: the cart ignores further events. */
    checkedOut: { type: "final" },
  },
});

export interface Order {
  readonly cartId: string;
  readonly items: Items;
}
export interface Reminder {
  readonly cartId: string;
  readonly items: Items;
  /** Processing time of the reminder. */
  readonly at: number;
}

export const orders = egress<Order>("orders");
export const reminders = egress<Reminder>("reminders");

/** The cart function type with a reminder after `reminderMs` (the machine's delay, overridden with `provide`). */
export function cartFunction(reminderMs = REMINDER_MS) {
  return fromMachine({
    type: "shop/cart",
    machine: cartMachine.provide({ delays: { reminder: reminderMs } }),
    input: (self) => ({ cartId: self.id }),
    on: {
      checkedOut: (ctx, event) => ctx.egress(orders, { cartId: ctx.self.id, items: event.items }),
      abandoned: (ctx, event) =>
        ctx.egress(reminders, { cartId: ctx.self.id, items: event.items, at: ctx.currentProcessingTime() }),
    },
  });
}

export const cart = cartFunction();

/** A shopper's action on a cart, `at` ms after the job starts. */
export interface CartAction {
  readonly cartId: string;
  readonly event: CartEvent;
}

export const SAMPLE: readonly CartAction[] = [
  { cartId: "c1", event: { type: "add", sku: "apple", qty: 2 } },
  { cartId: "c2", event: { type: "add", sku: "pear", qty: 1 } },
  { cartId: "c1", event: { type: "add", sku: "fig", qty: 1 } },
  { cartId: "c1", event: { type: "remove", sku: "apple" } },
  { cartId: "c1", event: { type: "checkout" } },
  { cartId: "c3", event: { type: "add", sku: "plum", qty: 3 } },
];

export const orderSink = collectSink<Order>("orders");
export const reminderSink = collectSink<Reminder>("reminders");

export function shoppingCartJob(
  options: { actions?: readonly CartAction[]; reminderMs?: number; print?: boolean; parallelism?: number } = {},
) {
  const cartType = options.reminderMs === undefined ? cart : cartFunction(options.reminderMs);
  return defineJob("shopping-cart", (env) => {
    const carts = env
      .fromCollection([...(options.actions ?? SAMPLE)])
      .setParallelism(1) // one reader: each cart's actions arrive in the order listed
      .toFunctions({
        functions: [cartType],
        route: (action) => ({ to: cartType.address(action.cartId), message: action.event }),
      })
      .uid("carts");
    if (options.parallelism !== undefined) carts.setParallelism(options.parallelism);
    const placed = carts.egress(orders);
    const reminded = carts.egress(reminders);
    if (options.print ?? true) {
      placed.print("order");
      reminded.print("reminder");
    }
    placed.collect(orderSink);
    reminded.collect(reminderSink);
  });
}

export default shoppingCartJob({ reminderMs: 2_000 });
