/**
 * Type behaviour of machine-backed functions, pinned for the compiler (compiled with the package,
 * never run): a machine's address accepts exactly its events, `on` must map every emitted event
 * type and sees each event's own fields, and its context sends and emits are checked.
 */
import { it } from "node:test";
import { emit, setup } from "xstate";
import {
  type Address,
  defineFunction,
  defineJob,
  egress,
  fromMachine,
  type MachineInspection,
  type MessageOf,
} from "../../src/index.js";

type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(_proof?: T): void {}

type CartEvent = { type: "add"; sku: string } | { type: "checkout" };
type CartEmitted = { type: "checkedOut"; items: string[] } | { type: "emptied" };

const machine = setup({
  types: {
    context: {} as { items: string[] },
    events: {} as CartEvent,
    emitted: {} as CartEmitted,
    input: {} as { owner: string },
  },
}).createMachine({
  context: { items: [] },
  on: { checkout: { actions: emit(({ context }) => ({ type: "checkedOut" as const, items: context.items })) } },
});

const orders = egress<{ items: string[] }>("orders");
const audit = defineFunction({ type: "test/audit", handle(_ctx, _message: { kind: "order"; size: number }) {} });

const cart = fromMachine({
  type: "test/cart",
  machine,
  input: (self) => {
    expectType<Equal<typeof self, Address<CartEvent>>>();
    return { owner: self.id };
  },
  on: {
    checkedOut: (ctx, event) => {
      expectType<Equal<typeof event, { type: "checkedOut"; items: string[] }>>();
      ctx.egress(orders, { items: event.items });
      // @ts-expect-error the egress carries { items }, not a number
      ctx.egress(orders, 1);
      ctx.send(audit.address("a"), { kind: "order", size: event.items.length });
      // @ts-expect-error the audit function takes orders, not cart events
      ctx.send(audit.address("a"), { type: "checkout" });
      ctx.send(ctx.self, { type: "add", sku: "x" });
      // @ts-expect-error the machine state is its snapshot: no declared state here
      ctx.state;
      // @ts-expect-error delays are the machine's (`after`, delayed raise), not sendAfter
      ctx.sendAfter(1, ctx.self, { type: "checkout" });
    },
    emptied: () => {},
  },
});

it("types machine-backed functions (compile-time only)", () => {});

expectType<Equal<MessageOf<typeof cart>, CartEvent>>();
expectType<Equal<ReturnType<typeof cart.address>, Address<CartEvent>>>();
expectType<Equal<NonNullable<ReturnType<typeof cart.inspect>>["context"], { items: string[] }>>();
export type CartInspection = MachineInspection;

export function sends(ctx: { send<T>(to: Address<T>, message: NoInfer<T>): void }) {
  ctx.send(cart.address("c"), { type: "add", sku: "apple" });
  // @ts-expect-error an add needs a sku
  ctx.send(cart.address("c"), { type: "add" });
  // @ts-expect-error not an event of the cart machine
  ctx.send(cart.address("c"), { type: "pay" });
  // @ts-expect-error a machine's messages are event objects
  ctx.send(cart.address("c"), "checkout");
}

// @ts-expect-error every emitted event type must be mapped ("emptied" is missing)
fromMachine({ type: "test/cart2", machine, on: { checkedOut: () => {} } });

fromMachine({
  type: "test/cart3",
  machine,
  // @ts-expect-error the input is { owner: string }
  input: () => ({ owner: 1 }),
  on: { checkedOut: () => {}, emptied: () => {} },
});

defineJob("routes", (env) => {
  env.fromCollection(["a"]).toFunctions({
    functions: [cart],
    route: (id) => ({ to: cart.address(id), message: { type: "checkout" } }),
  });
  env.fromCollection(["a"]).toFunctions({
    functions: [cart],
    // @ts-expect-error a router's message must be a cart event
    route: (id) => ({ to: cart.address(id), message: { type: "refund" } }),
  });
});
