/** A participant's loop counters: entries it sent to and received from other participants, in all. */
export interface LoopCounts {
  readonly sent: number;
  readonly received: number;
}

export interface TerminationCoordinatorOptions {
  /** Location index of every participant (every thread hosting a shard of the loop), this one's included. */
  readonly participants: readonly number[];
  /** Asks every participant for its state now (round `round`); each answers with `onAnswer`. */
  readonly probe: (round: number) => void;
  /** The loop is terminated: every participant is told, once. */
  readonly quiet: () => void;
}

/**
 * Decides when a feedback loop spread over threads or nodes has terminated: every shard's ingress
 * ended, no message (or checkpoint marker) is in flight anywhere and no delayed message is pending.
 *
 * Algorithm: message counting with two consecutive identical observations (Mattern's "double
 * counting", as in the four-counter method). A participant — one thread's part of the loop — is
 * *passive* when all its shards' ingress ended, its inboxes are empty (nothing held), and no
 * delayed message is pending; only a message from another participant can make it active again.
 * Each counts the entries it sent to other participants and received from them. A participant
 * reports (`onPassive`) whenever it turns passive with counts it has not reported; once the
 * latest reports of all participants balance (sum sent = sum received), the coordinator probes
 * every participant, and the loop has terminated when every answer is passive with exactly the
 * reported counts. Sound: the probe is sent after every report it checks was received, so each
 * participant was passive and received nothing from its report to its answer; these intervals
 * all contain the moment the probe went out, when every participant was passive and everything
 * sent had been received — and a passive system with nothing in flight stays so.
 *
 * Why this and not Safra's token ring: the reports need no ring over the participants and no
 * extra state on the message path (two counters per participant, counted per message, not per
 * batch), a round costs one message per participant each way, and nothing runs while the loop is
 * busy — a report is sent only when a participant turns passive after its ingress ended, and a
 * probe only when the reports balance. No polling: a failed probe waits for the next report.
 *
 * Runs on the thread of the loop's shard 0 (node 0 in a cluster); single-threaded.
 *
 * @example
 * const c = new TerminationCoordinator({ participants: [0, 1], probe: sendProbes, quiet: sendQuiet });
 * c.onPassive(0, { sent: 3, received: 2 });
 * c.onPassive(1, { sent: 2, received: 3 }); // balanced: probe(1)
 * c.onAnswer(1, 0, { sent: 3, received: 2 });
 * c.onAnswer(1, 1, { sent: 2, received: 3 }); // unchanged: quiet()
 */
export class TerminationCoordinator {
  /** Latest passive counts per participant; absent while it is (or may be) active. */
  private readonly latest = new Map<number, LoopCounts>();
  private round = 0;
  /** The counts the open probe checks against; undefined when no probe is open. */
  private probing: Map<number, LoopCounts> | undefined;
  private readonly answers = new Map<number, LoopCounts | undefined>();
  private ended = false;

  constructor(private readonly options: TerminationCoordinatorOptions) {}

  /** True once the loop was declared terminated. */
  get terminated(): boolean {
    return this.ended;
  }

  /** Participant `location` turned passive with `counts`. */
  onPassive(location: number, counts: LoopCounts): void {
    this.latest.set(location, counts);
    this.maybeProbe();
  }

  /** Participant `location` answered probe `round`: passive with `counts`, or active (undefined). */
  onAnswer(round: number, location: number, counts: LoopCounts | undefined): void {
    if (counts === undefined) this.latest.delete(location);
    else this.latest.set(location, counts);
    if (this.probing === undefined || round !== this.round) return;
    this.answers.set(location, counts);
    if (this.answers.size < this.options.participants.length) return;
    const expected = this.probing;
    this.probing = undefined;
    if (this.unchanged(expected)) {
      this.ended = true;
      this.options.quiet();
    } else {
      this.maybeProbe();
    }
  }

  /** Every answer is passive with the counts the probe checked. */
  private unchanged(expected: ReadonlyMap<number, LoopCounts>): boolean {
    for (const location of this.options.participants) {
      const answer = this.answers.get(location);
      const before = expected.get(location);
      if (answer === undefined || before === undefined) return false;
      if (answer.sent !== before.sent || answer.received !== before.received) return false;
    }
    return true;
  }

  private maybeProbe(): void {
    if (this.ended || this.probing !== undefined) return;
    if (this.latest.size < this.options.participants.length) return;
    let sent = 0;
    let received = 0;
    for (const counts of this.latest.values()) {
      sent += counts.sent;
      received += counts.received;
    }
    if (sent !== received) return;
    this.probing = new Map(this.latest);
    this.answers.clear();
    this.options.probe(++this.round);
  }
}
