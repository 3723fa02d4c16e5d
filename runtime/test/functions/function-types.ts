/**
 * Function types shared by the functions tests: a counter, a ping/pong pair, a function that
 * messages itself, and a fan-out coordinator with its workers.
 */
import { type Address, defineFunction, egress, valueState } from "@keyflow/functions-sdk";

export type CounterMessage = { readonly kind: "add"; readonly n: number } | { readonly kind: "reset" };
export interface Count {
  readonly id: string;
  readonly count: number;
}
export const counts = egress<Count>("counts");

export const counter = defineFunction({
  type: "test/counter",
  state: { count: valueState<number>() },
  handle(ctx, message: CounterMessage) {
    if (message.kind === "reset") {
      ctx.state.count.clear();
      return;
    }
    const count = (ctx.state.count.value() ?? 0) + message.n;
    ctx.state.count.update(count);
    ctx.egress(counts, { id: ctx.self.id, count });
  },
});

export type PingMessage =
  | { readonly kind: "start"; readonly rounds: number }
  | { readonly kind: "pong"; readonly n: number };
export type PongMessage = { readonly kind: "ping"; readonly n: number };
export interface Rally {
  readonly id: string;
  readonly pings: number;
  readonly pongs: number;
}
export const rallies = egress<Rally>("rallies");

/** Serves `rounds` pings to the pong of its own id; both keep a state named "count" under one id. */
export const ping = defineFunction({
  type: "test/ping",
  state: { count: valueState<number>() },
  handle(ctx, message: PingMessage) {
    const count = (ctx.state.count.value() ?? 0) + 1;
    ctx.state.count.update(count);
    if (message.kind === "start") {
      ctx.send(pong.address(ctx.self.id), { kind: "ping", n: message.rounds });
      return;
    }
    if (message.n > 1) ctx.send(pong.address(ctx.self.id), { kind: "ping", n: message.n - 1 });
    else ctx.egress(rallies, { id: ctx.self.id, pings: count, pongs: -1 });
  },
});

export const pong = defineFunction({
  type: "test/pong",
  state: { count: valueState<number>() },
  handle(ctx, message: PongMessage) {
    const count = (ctx.state.count.value() ?? 0) + 1;
    ctx.state.count.update(count);
    if (message.n === 1) ctx.egress(rallies, { id: ctx.self.id, pings: -1, pongs: count });
    ctx.send(ctx.caller as Address<PingMessage>, { kind: "pong", n: message.n });
  },
});

export interface Countdown {
  readonly id: string;
  readonly handled: number;
}
export const countdowns = egress<Countdown>("countdowns");

/** Messages itself `n` times, counting the messages it handled. */
export const countdown = defineFunction({
  type: "test/countdown",
  state: { handled: valueState<number>() },
  handle(ctx, message: { readonly n: number }) {
    const handled = (ctx.state.handled.value() ?? 0) + 1;
    ctx.state.handled.update(handled);
    if (message.n > 0) ctx.send(ctx.self, { n: message.n - 1 });
    else ctx.egress(countdowns, { id: ctx.self.id, handled });
  },
});

export type RootMessage =
  | { readonly kind: "start"; readonly workers: number }
  | { readonly kind: "result"; readonly value: number };
export interface Total {
  readonly id: string;
  readonly sum: number;
  readonly replies: number;
}
export const totals = egress<Total>("totals");

/** Fans a job out to `workers` squarers (ids spread over every shard) and sums their answers. */
export const root = defineFunction({
  type: "test/root",
  state: { expected: valueState<number>(), sum: valueState<number>(), replies: valueState<number>() },
  handle(ctx, message: RootMessage) {
    if (message.kind === "start") {
      ctx.state.expected.update(message.workers);
      for (let i = 1; i <= message.workers; i++) {
        ctx.send(squarer.address(`${ctx.self.id}/w${i}`), { value: i, replyTo: ctx.self });
      }
      return;
    }
    const sum = (ctx.state.sum.value() ?? 0) + message.value;
    const replies = (ctx.state.replies.value() ?? 0) + 1;
    ctx.state.sum.update(sum);
    ctx.state.replies.update(replies);
    if (replies === ctx.state.expected.value()) ctx.egress(totals, { id: ctx.self.id, sum, replies });
  },
});

export const squarer = defineFunction({
  type: "test/squarer",
  handle(ctx, message: { readonly value: number; readonly replyTo: Address<RootMessage> }) {
    ctx.send(message.replyTo, { kind: "result", value: message.value * message.value });
  },
});
