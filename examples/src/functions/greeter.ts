/**
 * Per-key functions (Flink Stateful Functions' greeter): a stream of user names is routed to a
 * `greeter` function per user, which counts how often it has seen that user and asks the user's
 * `mailbox` function — another function type, under the same id — to deliver a greeting. The
 * mailbox keeps the user's last greetings and sends each delivered greeting to an egress, which
 * is an ordinary stream: here mapped to a line and collected (or printed).
 *
 * Run it: `npm run keyflow -- run examples/dist/src/functions/greeter.js`.
 */
import { collectSink, defineFunction, defineJob, egress, listState, valueState } from "@keyflow/functions-sdk";

export interface Greeting {
  readonly user: string;
  readonly text: string;
  readonly seen: number;
}

/** What a mailbox delivers: the greeting and how many it keeps. */
export const delivered = egress<Greeting & { readonly kept: number }>("delivered");

export const greeter = defineFunction({
  type: "example/greeter",
  state: { seen: valueState<number>() },
  handle(ctx, message: { readonly name: string }) {
    const seen = (ctx.state.seen.value() ?? 0) + 1;
    ctx.state.seen.update(seen);
    const text = seen === 1 ? `Hello ${message.name}! I'm so happy to meet you.` : `Hello again ${message.name}!`;
    ctx.send(mailbox.address(ctx.self.id), { kind: "deliver", greeting: { user: ctx.self.id, text, seen } });
  },
});

export type MailboxMessage = { readonly kind: "deliver"; readonly greeting: Greeting };

export const mailbox = defineFunction({
  type: "example/mailbox",
  state: { last: listState<Greeting>() },
  handle(ctx, message: MailboxMessage) {
    const last = [...ctx.state.last.get(), message.greeting].slice(-3);
    ctx.state.last.update(last);
    ctx.egress(delivered, { ...message.greeting, kept: last.length });
  },
});

export const NAMES = ["ada", "grace", "alan", "ada", "barbara", "grace", "ada"];
export const lines = collectSink<string>("greetings");

export function greeterJob(options: { print?: boolean } = {}) {
  return defineJob("greeter", (env) => {
    const greetings = env
      .fromCollection(NAMES)
      .toFunctions({
        functions: [greeter, mailbox],
        route: (name) => ({ to: greeter.address(name), message: { name } }),
      })
      .uid("greeter-functions")
      .egress(delivered)
      .map((g) => `${g.user} (${g.seen}): ${g.text}`);
    if (options.print ?? true) greetings.print();
    greetings.collect(lines);
  });
}

export default greeterJob();
