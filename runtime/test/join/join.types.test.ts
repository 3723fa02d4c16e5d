/**
 * Type behaviour of joins, pinned for the compiler: this file is compiled with the package, so an
 * inference that changes makes an `expectType<Equal<...>>` fail, and a `@ts-expect-error` that
 * stops erroring breaks the build. The functions below are never called.
 */
import { it } from "node:test";
import {
  type Collector,
  countTrigger,
  type DataStream,
  eventTimeSessionWindows,
  type OperatorStream,
  outputTag,
  type ProcessJoinContext,
  type StreamEnvironment,
  slidingEventTimeWindows,
  type TaggedUnion,
  type TimeWindow,
  type Trigger,
  tumblingEventTimeWindows,
} from "@keyflow/functions-sdk";

type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(_proof?: T): void {}

interface Order {
  readonly orderId: number;
  readonly user: string;
  readonly amount: number;
}
interface Payment {
  readonly paymentId: string;
  readonly user: string;
  readonly userNumber: number;
}

function orders(env: StreamEnvironment): DataStream<Order> {
  return env.fromCollection<Order>([]);
}
function payments(env: StreamEnvironment): DataStream<Payment> {
  return env.fromCollection<Payment>([]);
}

export function intervalJoinsNeedKeysOfOneType(env: StreamEnvironment): void {
  const byUser = orders(env).keyBy((o) => o.user);
  byUser.intervalJoin(payments(env).keyBy((p) => p.user));
  // @ts-expect-error the right side is keyed by a number, the left by a string
  byUser.intervalJoin(payments(env).keyBy((p) => p.userNumber));
  // @ts-expect-error the right side must be keyed
  byUser.intervalJoin(payments(env));
  // @ts-expect-error only keyed streams have intervalJoin
  orders(env).intervalJoin(payments(env).keyBy((p) => p.user));
}

export function intervalJoinFunctionsSeeBothRecordTypes(env: StreamEnvironment): void {
  const joined = orders(env)
    .keyBy((o) => o.user)
    .intervalJoin(payments(env).keyBy((p) => p.user))
    .between(-1_000, 0)
    .lowerBoundExclusive()
    .process({
      processElement(order, payment, ctx, out: Collector<{ orderId: number; paymentId: string; at: number }>) {
        expectType<Equal<typeof order, Order>>();
        expectType<Equal<typeof payment, Payment>>();
        expectType<Equal<typeof ctx, ProcessJoinContext>>();
        out.collect({ orderId: order.orderId, paymentId: payment.paymentId, at: ctx.timestamp });
        // @ts-expect-error the collector takes the declared output type only
        out.collect(order);
      },
    });
  expectType<Equal<typeof joined, OperatorStream<{ orderId: number; paymentId: string; at: number }>>>();
}

export function lateDataOutputsHaveTheirSideType(env: StreamEnvironment): void {
  const joined = orders(env)
    .keyBy((o) => o.user)
    .intervalJoin(payments(env).keyBy((p) => p.user))
    .between(0, 10);
  joined.sideOutputLeftLateData(outputTag<Order>("late-orders"));
  joined.sideOutputRightLateData(outputTag<Payment>("late-payments"));
  // @ts-expect-error left late data are orders
  joined.sideOutputLeftLateData(outputTag<Payment>("late-payments"));
}

export function windowJoinsNeedKeysOfOneType(env: StreamEnvironment): void {
  orders(env)
    .join(payments(env))
    .where((o) => o.user)
    // @ts-expect-error the left key is a string, the right one a number
    .equalTo((p) => p.userNumber);
  orders(env)
    .coGroup(payments(env))
    .where((o) => o.orderId)
    // @ts-expect-error the left key is a number, the right one a string
    .equalTo((p) => p.paymentId);
  orders(env)
    .join(payments(env))
    .where((o) => [o.user, o.orderId] as const)
    .equalTo((p) => [p.user, p.userNumber] as const);
}

export function windowJoinFunctionsAreInferred(env: StreamEnvironment): void {
  const pairs = orders(env)
    .join(payments(env))
    .where((o) => o.user)
    .equalTo((p) => p.user)
    .window(tumblingEventTimeWindows(1_000))
    .apply((order, payment) => {
      expectType<Equal<typeof order, Order>>();
      expectType<Equal<typeof payment, Payment>>();
      return { orderId: order.orderId, paymentId: payment.paymentId };
    });
  expectType<Equal<typeof pairs, OperatorStream<{ orderId: number; paymentId: string }>>>();

  const flat = orders(env)
    .join(payments(env))
    .where((o) => o.user)
    .equalTo((p) => p.user)
    .window(slidingEventTimeWindows(1_000, 500))
    .apply({
      flatJoin(order, payment, out: Collector<string>) {
        expectType<Equal<typeof order, Order>>();
        expectType<Equal<typeof payment, Payment>>();
        out.collect(`${order.orderId}/${payment.paymentId}`);
      },
    });
  expectType<Equal<typeof flat, OperatorStream<string>>>();

  orders(env)
    .join(payments(env))
    .where((o) => o.user)
    .equalTo((p) => p.user)
    .window(tumblingEventTimeWindows(1_000))
    // @ts-expect-error the right record is a Payment
    .apply((_order: Order, payment: Order) => payment.orderId);
}

export function coGroupFunctionsSeeBothSidesOfAWindow(env: StreamEnvironment): void {
  const counts = orders(env)
    .coGroup(payments(env))
    .where((o) => o.user)
    .equalTo((p) => p.user)
    .window(eventTimeSessionWindows(5_000))
    .trigger(countTrigger(10))
    .allowedLateness(1_000)
    .apply((lefts, rights, out: Collector<[number, number]>) => {
      expectType<Equal<typeof lefts, readonly Order[]>>();
      expectType<Equal<typeof rights, readonly Payment[]>>();
      out.collect([lefts.length, rights.length]);
    });
  expectType<Equal<typeof counts, OperatorStream<[number, number]>>>();
}

export function joinTriggersSeeTaggedRecords(env: StreamEnvironment, onOrders: Trigger<Order, TimeWindow>): void {
  const joined = orders(env)
    .join(payments(env))
    .where((o) => o.user)
    .equalTo((p) => p.user)
    .window(tumblingEventTimeWindows(1_000));
  const tagged: Trigger<TaggedUnion<Order, Payment>, TimeWindow> = {
    onElement(element) {
      if (element.side === 0) expectType<Equal<typeof element.value, Order>>();
      else expectType<Equal<typeof element.value, Payment>>();
      return "continue";
    },
    onEventTime: () => "continue",
    onProcessingTime: () => "continue",
    clear() {},
  };
  joined.trigger(tagged);
  // @ts-expect-error a join's trigger sees tagged records of both sides, not orders
  joined.trigger(onOrders);
}

it("join types are checked when the package compiles", () => {});
