/**
 * Fraud detection (the Flink fraud-detection walkthrough, with dynamic rules): card transactions
 * are checked per account against rules that arrive, change and go away while the job runs.
 *
 * - Rules reach every shard through the broadcast-state pattern: `transactions.keyBy(account)
 *   .connect(rules.broadcast({ rules: mapState() })).process(...)` ("AttachRules"). Each shard
 *   keeps every version of every rule with the event time it takes effect from.
 * - Which rules apply to a transaction is decided in event time, so it does not depend on how the
 *   two streams interleave: a transaction waits in keyed state for an event-time timer at its own
 *   timestamp. The timer fires once the watermark — the minimum of both inputs' — passed it, that
 *   is once every rule change up to that moment has arrived; the transaction then goes on with the
 *   rules in effect at its timestamp (Flink's advice for deterministic broadcast state).
 * - The checked transactions are routed into a per-account function (`defineFunction`), which
 *   keeps the account's recent transactions (the last `RETENTION_MS` of event time, trimmed on
 *   every transaction; an account silent for `ttlMs` of processing time forgets them by state TTL)
 *   and emits an alert per (transaction, rule) that fires to the `alerts` egress, collected and
 *   printed. Dataflow operators and functions mixed in one job.
 *
 * Rules: "amount above X", "more than N transactions within T ms" and "a small transaction
 * followed by a large one within T ms" (card testing).
 *
 * Run it: `npm run keyflow -- run examples/dist/src/functions/fraud-detection.js --parallelism 2 --workers 0`
 * (functions stay on one thread for now).
 */
import {
  type Collector,
  collectionSource,
  collectSink,
  defineFunction,
  defineJob,
  egress,
  type FunctionType,
  type ListStateDescriptor,
  listState,
  mapState,
  type ReadOnlyMapState,
  SeededRandom,
  WatermarkStrategy,
} from "@keyflow/functions-sdk";

export interface Transaction {
  readonly id: string;
  readonly account: string;
  readonly merchant: string;
  /** In the card's currency, two decimals. */
  readonly amount: number;
  /** Event time, ms. */
  readonly timestamp: number;
}

/** A rule, by kind; `id` names it across versions. */
export type Rule =
  /** A transaction above `amount`. */
  | { readonly kind: "amountAbove"; readonly id: string; readonly amount: number }
  /** More than `count` transactions of one account within `windowMs` (this one included). */
  | { readonly kind: "velocity"; readonly id: string; readonly count: number; readonly windowMs: number }
  /** A transaction of at least `large` less than `windowMs` after one below `small` on the same account. */
  | {
      readonly kind: "smallThenLarge";
      readonly id: string;
      readonly small: number;
      readonly large: number;
      readonly windowMs: number;
    };

/** A change to the rules, effective for transactions from event time `at` on. */
export type RuleChange =
  | { readonly op: "upsert"; readonly rule: Rule; readonly at: number }
  | { readonly op: "remove"; readonly id: string; readonly at: number };

/** One version of a rule in broadcast state: from `from` on, `rule` (null: removed). */
export interface RuleVersion {
  readonly from: number;
  readonly rule: Rule | null;
}

/** A transaction with the rules in effect at its timestamp: what the account function gets. */
export interface Checked {
  readonly tx: Transaction;
  readonly rules: readonly Rule[];
}

export interface Alert {
  readonly ruleId: string;
  readonly account: string;
  readonly transaction: string;
  readonly merchant: string;
  readonly amount: number;
  readonly timestamp: number;
  readonly reason: string;
}

/** How much event time an account remembers: no rule window may be longer. */
export const RETENTION_MS = 60_000;
/** Processing time after which a silent account's state expires (state TTL). */
export const ACCOUNT_TTL_MS = 10 * 60_000;

export const alerts = egress<Alert>("alerts");

/** Why `rule` fires on `tx`, given the account's transactions before it (the last `RETENTION_MS`), or undefined. */
export function evaluate(rule: Rule, tx: Transaction, recent: readonly Transaction[]): string | undefined {
  switch (rule.kind) {
    case "amountAbove":
      return tx.amount > rule.amount ? `amount ${tx.amount} above ${rule.amount}` : undefined;
    case "velocity": {
      const inWindow = recent.filter((t) => t.timestamp > tx.timestamp - rule.windowMs).length + 1;
      return inWindow > rule.count ? `${inWindow} transactions within ${rule.windowMs} ms` : undefined;
    }
    case "smallThenLarge": {
      if (tx.amount < rule.large) return undefined;
      const small = recent.find((t) => t.amount < rule.small && t.timestamp > tx.timestamp - rule.windowMs);
      return small === undefined ? undefined : `${small.amount} at ${small.merchant}, then ${tx.amount}`;
    }
  }
}

export type AccountState = { readonly recent: ListStateDescriptor<Transaction> };

/** The per-account function, with its state's time-to-live (processing time). */
export function accountFunction(ttlMs = ACCOUNT_TTL_MS): FunctionType<Checked, AccountState> {
  return defineFunction({
    type: "fraud/account",
    state: { recent: listState<Transaction>({ ttl: { ttlMs } }) },
    handle(ctx, { tx, rules }: Checked) {
      // Event time only moves forward per account (one source, timers in timestamp order).
      const recent = ctx.state.recent.get().filter((t) => t.timestamp > tx.timestamp - RETENTION_MS);
      for (const rule of rules) {
        const reason = evaluate(rule, tx, recent);
        if (reason === undefined) continue;
        ctx.egress(alerts, {
          ruleId: rule.id,
          account: tx.account,
          transaction: tx.id,
          merchant: tx.merchant,
          amount: tx.amount,
          timestamp: tx.timestamp,
          reason,
        });
      }
      recent.push(tx);
      ctx.state.recent.update(recent);
    },
  });
}

export const account = accountFunction();

/** The rules in effect at event time `at`, by id. */
export function rulesAt(versions: ReadOnlyMapState<string, readonly RuleVersion[]>, at: number): Rule[] {
  const rules: Rule[] = [];
  for (const id of versions.keys().sort()) {
    let current: Rule | null = null;
    for (const version of versions.get(id) ?? []) if (version.from <= at) current = version.rule;
    if (current !== null) rules.push(current);
  }
  return rules;
}

/** A watermark right after each record: event time advances with every transaction and rule change. */
function punctuated<T>(timestamp: (value: T) => number): WatermarkStrategy<T> {
  return WatermarkStrategy.forGenerator<T>(() => ({
    onEvent(_value, time, output) {
      output.emitWatermark(time);
    },
    onPeriodicEmit() {},
  })).withTimestampAssigner((value) => timestamp(value));
}

export interface Scenario {
  readonly transactions: readonly Transaction[];
  readonly rules: readonly RuleChange[];
}

const MERCHANTS = ["grocer", "fuel", "books", "travel", "electronics", "cafe", "pharmacy", "online-games"];

/**
 * A seeded day of card traffic: `count` transactions over `accounts` accounts, 1 to 400 ms apart
 * in event time; mostly ordinary amounts, some tiny ones (card testing), some large ones, and
 * bursts of a few transactions on one account. Rules arrive over time: a large-amount and a
 * velocity rule at the start, card testing from a quarter in, the large-amount threshold lowered
 * at half, card testing tightened at 60%, velocity removed at three quarters.
 */
export function scenario(options: { seed?: number; accounts?: number; count?: number } = {}): Scenario {
  const { seed = 11, accounts = 20, count = 1_000 } = options;
  const random = new SeededRandom(seed);
  const transactions: Transaction[] = [];
  let time = 0;
  const add = (account: string, amount: number) => {
    time += 1 + random.nextInt(400);
    const merchant = MERCHANTS[random.nextInt(MERCHANTS.length)] as string;
    transactions.push({ id: `tx-${transactions.length}`, account, merchant, amount, timestamp: time });
  };
  const cents = (from: number, to: number) => Math.round((from + random.next() * (to - from)) * 100) / 100;
  while (transactions.length < count) {
    const account = `acct-${random.nextInt(accounts)}`;
    const roll = random.nextInt(100);
    if (roll < 85) add(account, cents(5, 300));
    else if (roll < 91) add(account, cents(0.1, 1));
    else if (roll < 97) add(account, cents(800, 3_000));
    else for (let n = 2 + random.nextInt(4); n > 0; n--) add(account, cents(5, 300));
  }
  const end = time;
  const at = (fraction: number) => Math.round(end * fraction);
  return {
    transactions: transactions.slice(0, count),
    rules: [
      { op: "upsert", at: 0, rule: { kind: "amountAbove", id: "large-amount", amount: 2_500 } },
      { op: "upsert", at: 0, rule: { kind: "velocity", id: "velocity", count: 3, windowMs: 5_000 } },
      {
        op: "upsert",
        at: at(0.25),
        rule: { kind: "smallThenLarge", id: "card-testing", small: 1, large: 800, windowMs: 30_000 },
      },
      { op: "upsert", at: at(0.5), rule: { kind: "amountAbove", id: "large-amount", amount: 2_000 } },
      {
        op: "upsert",
        at: at(0.6),
        rule: { kind: "smallThenLarge", id: "card-testing", small: 1, large: 1_200, windowMs: 10_000 },
      },
      { op: "remove", at: at(0.75), id: "velocity" },
    ],
  };
}

export const alertSink = collectSink<Alert>("alerts");

export interface FraudDetectionOptions {
  readonly scenario?: Scenario;
  /** Print the alerts. Default true. */
  readonly print?: boolean;
  /** The account function type (default `account`): tests give one with another TTL or a fault. */
  readonly accountType?: FunctionType<Checked, AccountState>;
}

export function fraudDetectionJob(options: FraudDetectionOptions = {}) {
  const { transactions, rules } = options.scenario ?? scenario();
  for (const change of rules) {
    if (change.op === "upsert" && "windowMs" in change.rule && change.rule.windowMs > RETENTION_MS) {
      throw new RangeError(`rule ${change.rule.id}: window ${change.rule.windowMs} ms exceeds ${RETENTION_MS} ms`);
    }
  }
  const accountType = options.accountType ?? account;
  return defineJob("fraud-detection", (env) => {
    const ruleStream = env
      .fromSource(
        collectionSource(rules),
        "Rules",
        punctuated((change) => change.at),
      )
      .setParallelism(1)
      .broadcast({ rules: mapState<string, readonly RuleVersion[]>() });

    const checked = env
      .fromSource(
        collectionSource(transactions),
        "Transactions",
        punctuated((tx) => tx.timestamp),
      )
      .setParallelism(1)
      .keyBy((tx) => tx.account)
      .connect(ruleStream)
      .process({
        state: { pending: mapState<number, Transaction>() },
        processElement(tx, ctx) {
          // Held until the watermark shows every rule change up to tx.timestamp has arrived.
          ctx.state.pending.put(tx.timestamp, tx);
          ctx.timerService.registerEventTimeTimer(tx.timestamp);
        },
        onTimer(timestamp, ctx, out: Collector<Checked>) {
          const tx = ctx.state.pending.get(timestamp);
          if (tx === undefined) return;
          ctx.state.pending.remove(timestamp);
          out.collect({ tx, rules: rulesAt(ctx.broadcastState.rules, timestamp) });
        },
        processBroadcastElement(change, ctx) {
          // Every shard sees the same changes in the same order, so their broadcast state is alike.
          const id = change.op === "upsert" ? change.rule.id : change.id;
          const versions = ctx.broadcastState.rules.get(id) ?? [];
          const version: RuleVersion = { from: change.at, rule: change.op === "upsert" ? change.rule : null };
          ctx.broadcastState.rules.put(id, [...versions, version]);
        },
      })
      .name("AttachRules")
      .uid("attach-rules");

    const raised = checked
      .toFunctions({
        functions: [accountType],
        route: (c) => ({ to: accountType.address(c.tx.account), message: c }),
      })
      .uid("accounts")
      .egress(alerts);
    if (options.print ?? true) {
      raised
        .map(
          (a) =>
            `${a.account} ${a.transaction} (${a.merchant}, ${a.amount}) at ${a.timestamp}: ${a.ruleId}: ${a.reason}`,
        )
        .print();
    }
    raised.collect(alertSink);
  });
}

export default fraudDetectionJob();
