import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defineFunction } from "@keyflow/functions-sdk";
import { execute, MemoryCheckpointStorage } from "@keyflow/runtime";
import {
  type Alert,
  account,
  alertSink,
  fraudDetectionJob,
  type Rule,
  type Scenario,
  scenario,
  type Transaction,
} from "../../src/functions/fraud-detection.js";

/**
 * The alerts, by a plain loop over the transactions in event time: the rules in effect at each
 * transaction are the latest change per rule id at or before it; windows look at all of the
 * account's earlier transactions.
 */
function reference({ transactions, rules: changes }: Scenario): string[] {
  const history = new Map<string, Transaction[]>();
  const out: Alert[] = [];
  for (const tx of transactions) {
    const rules = new Map<string, Rule>();
    for (const change of changes) {
      if (change.at > tx.timestamp) continue;
      if (change.op === "upsert") rules.set(change.rule.id, change.rule);
      else rules.delete(change.id);
    }
    const before = history.get(tx.account) ?? [];
    const within = (ms: number) => before.filter((t) => tx.timestamp - t.timestamp < ms);
    for (const rule of rules.values()) {
      let reason: string | undefined;
      if (rule.kind === "amountAbove" && tx.amount > rule.amount) {
        reason = `amount ${tx.amount} above ${rule.amount}`;
      } else if (rule.kind === "velocity" && within(rule.windowMs).length + 1 > rule.count) {
        reason = `${within(rule.windowMs).length + 1} transactions within ${rule.windowMs} ms`;
      } else if (rule.kind === "smallThenLarge" && tx.amount >= rule.large) {
        const small = within(rule.windowMs).find((t) => t.amount < rule.small);
        if (small !== undefined) reason = `${small.amount} at ${small.merchant}, then ${tx.amount}`;
      }
      if (reason === undefined) continue;
      const { id: transaction, account, merchant, amount, timestamp } = tx;
      out.push({ ruleId: rule.id, account, transaction, merchant, amount, timestamp, reason });
    }
    history.set(tx.account, [...before, tx]);
  }
  return out.map((a) => JSON.stringify(a)).sort();
}

const sorted = (alerts: readonly Alert[]) => alerts.map((a) => JSON.stringify(a)).sort();

describe("fraud detection (broadcast rules, a function per account)", () => {
  const input = scenario({ seed: 11 });
  const expected = reference(input);
  const end = input.transactions.at(-1)?.timestamp ?? 0;
  const parsed = expected.map((line) => JSON.parse(line) as Alert);
  const fired = (ruleId: string, from: number, to: number, test: (a: Alert) => boolean = () => true) =>
    parsed.filter((a) => a.ruleId === ruleId && a.timestamp >= from && a.timestamp < to && test(a)).length;

  it("has a seed that exercises a rule added, changed and removed mid-stream", () => {
    // Card testing arrives at 25%: no alert before, some after.
    assert.equal(fired("card-testing", 0, end * 0.25), 0);
    assert.ok(fired("card-testing", end * 0.25, end * 0.6) > 0);
    // Tightened at 60% (large from 800 to 1200): alerts between 800 and 1200 only before.
    assert.ok(fired("card-testing", end * 0.25, end * 0.6, (a) => a.amount < 1_200) > 0);
    assert.equal(
      fired("card-testing", end * 0.6, end, (a) => a.amount < 1_200),
      0,
    );
    // The large-amount threshold goes from 2500 to 2000 at half: 2000..2500 alerts only after.
    assert.equal(
      fired("large-amount", 0, end * 0.5, (a) => a.amount <= 2_500),
      0,
    );
    assert.ok(fired("large-amount", end * 0.5, end, (a) => a.amount <= 2_500) > 0);
    // Velocity goes away at three quarters.
    assert.ok(fired("velocity", 0, end * 0.75) > 5);
    assert.equal(fired("velocity", end * 0.75, end), 0);
  });

  for (const parallelism of [1, 3]) {
    it(`raises exactly the alerts of a plain loop over the transactions, at parallelism ${parallelism}`, async () => {
      const result = await execute(fraudDetectionJob({ scenario: input, print: false }), {
        parallelism,
        workers: 0,
      });
      assert.deepEqual(sorted(result.get(alertSink)), expected);
    });
  }

  it("raises the same alerts when a handler fails once and the job restarts from a checkpoint", async () => {
    let failed = false;
    const faulty = defineFunction({
      type: account.type,
      state: account.state,
      handle(ctx, message: Parameters<typeof account.handle>[1]) {
        if (message.tx.id === "tx-700" && !failed) {
          failed = true;
          throw new Error("transient fault at tx-700");
        }
        account.handle(ctx, message);
      },
    });
    const log: string[] = [];
    const result = await execute(fraudDetectionJob({ scenario: input, print: false, accountType: faulty }), {
      parallelism: 3,
      workers: 0,
      batchSize: 16,
      checkpoints: { intervalMs: 2, storage: new MemoryCheckpointStorage() },
      restartStrategy: { kind: "fixedDelay", attempts: 2, delayMs: 0 },
      log: (line) => log.push(line),
    });
    const restarts = log.filter((line) => line.startsWith("job failed"));
    assert.equal(restarts.length, 1, log.join("\n"));
    assert.match(restarts[0] ?? "", /transient fault at tx-700\).*from checkpoint \d+/);
    assert.deepEqual(sorted(result.get(alertSink)), expected);
  });
});
