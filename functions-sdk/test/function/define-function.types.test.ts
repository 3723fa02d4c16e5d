/**
 * Type behaviour of per-key functions, pinned for the compiler (compiled with the package, never
 * run): an address accepts exactly its function's messages, state is typed from its declarations,
 * egress values are checked against their tag, and ingress routes only matching messages.
 */
import { it } from "node:test";
import {
  type Address,
  type AnyAddress,
  defineFunction,
  defineJob,
  egress,
  type FunctionContext,
  type FunctionType,
  type MessageOf,
  mapState,
  type ValueState,
  valueState,
} from "../../src/index.js";

type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(_proof?: T): void {}

type CounterMessage = { readonly kind: "add"; readonly n: number } | { readonly kind: "reset" };
type GreeterMessage = { readonly kind: "greet"; readonly name: string };

const counts = egress<{ id: string; count: number }>("counts");

const counter = defineFunction({
  type: "test/counter",
  state: { count: valueState<number>(), seen: mapState<string, boolean>() },
  handle(ctx, message: CounterMessage) {
    expectType<Equal<typeof ctx.state.count, ValueState<number>>>();
    expectType<Equal<typeof ctx.self, Address<CounterMessage>>>();
    expectType<Equal<typeof ctx.caller, AnyAddress | undefined>>();
    if (message.kind === "reset") {
      ctx.state.count.clear();
      return;
    }
    const count = (ctx.state.count.value() ?? 0) + message.n;
    ctx.state.count.update(count);
    // @ts-expect-error the count state holds numbers, not strings
    ctx.state.count.update("one");
    // @ts-expect-error the map state's values are booleans
    ctx.state.seen.put("x", 1);
    // @ts-expect-error no state of that name was declared
    ctx.state.missing;
    ctx.egress(counts, { id: ctx.self.id, count });
    // @ts-expect-error the egress carries { id, count }, not a number
    ctx.egress(counts, count);
    ctx.send(greeter.address("g"), { kind: "greet", name: "a" });
    // @ts-expect-error the greeter does not accept a counter's message
    ctx.send(greeter.address("g"), { kind: "add", n: 1 });
    ctx.send(ctx.self, { kind: "reset" });
    // @ts-expect-error a counter's message needs n
    ctx.send(ctx.self, { kind: "add" });
    const token = ctx.sendAfter(1_000, ctx.self, { kind: "reset" });
    expectType<Equal<typeof token, string>>();
    // @ts-expect-error a delayed message is checked like any other
    ctx.sendAfter(1_000, greeter.address("g"), { kind: "reset" });
    ctx.cancel(token);
    if (ctx.caller !== undefined) {
      // Replying to the caller needs its type to be stated.
      ctx.send(ctx.caller as Address<GreeterMessage>, { kind: "greet", name: "back" });
      // @ts-expect-error the caller's message type is unknown: state it first
      ctx.send(ctx.caller, { kind: "greet", name: "back" });
    }
  },
});

const greeter = defineFunction({
  type: "test/greeter",
  handle(_ctx, _message: GreeterMessage) {},
});

export function messageTypesFlowFromTheHandler(): void {
  expectType<Equal<typeof counter, FunctionType<CounterMessage, typeof counter.state>>>();
  expectType<Equal<MessageOf<typeof greeter>, GreeterMessage>>();
  expectType<Equal<ReturnType<typeof greeter.address>, Address<GreeterMessage>>>();
  // @ts-expect-error an address of one function is not an address of another
  const _wrong: Address<GreeterMessage> = counter.address("a");
  const explicit = defineFunction<string>({
    type: "test/echo",
    handle: (ctx, m) => ctx.egress(counts, { id: m, count: 0 }),
  });
  expectType<Equal<MessageOf<typeof explicit>, string>>();
  const _ctx = (_: FunctionContext<string, Record<never, never>>) => {};
}

export const job = defineJob({ name: "types" }, (env) => {
  const names = env.fromCollection<{ id: string; name: string }>([]);
  const functions = names.toFunctions({
    functions: [counter, greeter],
    route: (r) => ({ to: greeter.address(r.id), message: { kind: "greet", name: r.name } }),
  });
  functions.ingress(names, (r) => ({ to: counter.address(r.id), message: { kind: "add", n: r.name.length } }));
  // @ts-expect-error the counter does not accept a greeting
  functions.ingress(names, (r) => ({ to: counter.address(r.id), message: { kind: "greet", name: r.name } }));
  names.toFunctions({
    functions: [counter],
    // @ts-expect-error the greeter is not one of this operator's functions
    route: (r) => ({ to: greeter.address(r.id), message: { kind: "greet", name: r.name } }),
  });
  const out = functions.egress(counts);
  out.map((c) => c.count + 1);
  // @ts-expect-error egress records are { id, count }
  out.map((c) => c.name);
});

// Timers: onTimer gets the same typed context, and a timestamp.
defineFunction({
  type: "test/timed",
  state: { count: valueState<number>() },
  handle(ctx, _message: { readonly kind: "tick" }) {
    ctx.timers.registerProcessingTimeTimer(ctx.timers.currentProcessingTime() + 1_000);
    // @ts-expect-error a timer is a timestamp in ms, not a date string
    ctx.timers.registerProcessingTimeTimer("tomorrow");
  },
  onTimer(ctx, timestamp) {
    ctx.state.count.update(timestamp);
    // @ts-expect-error the state is a number
    ctx.state.count.update("late");
  },
});

it("pins the types of per-key functions (checked by the compiler)", () => {});
