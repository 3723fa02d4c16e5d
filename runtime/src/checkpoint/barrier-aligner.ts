/**
 * Aligns checkpoint barriers over a shard's input channels (Flink's aligned checkpoints): once a
 * channel delivered the barrier of checkpoint n it is blocked — its later elements wait — until
 * every live channel delivered it; then the shard snapshots and forwards the barrier, and the
 * blocked channels resume with what they held, in order. A channel that ends no longer counts.
 *
 * One checkpoint aligns at a time: a barrier of a newer checkpoint while an older one aligns
 * abandons the older (it can never complete: that barrier was overtaken), as Flink does.
 */
export class BarrierAligner {
  private readonly blocked: boolean[];
  private readonly ended: boolean[];
  private pending: number | undefined;
  private arrived = 0;
  /** The newest checkpoint this shard aligned or abandoned; older barriers are stale. */
  private latest = Number.NEGATIVE_INFINITY;

  constructor(channels: number) {
    this.blocked = new Array<boolean>(channels).fill(false);
    this.ended = new Array<boolean>(channels).fill(false);
  }

  /** The checkpoint being aligned, if any. */
  get aligning(): number | undefined {
    return this.pending;
  }

  isBlocked(channel: number): boolean {
    return this.blocked[channel] === true;
  }

  /**
   * A barrier of `checkpointId` arrived on `channel`. Returns "aligned" when it was the last one
   * (every channel is unblocked again), "waiting" while others are missing, "stale" for a barrier
   * of a checkpoint already aligned or abandoned, and `{ abandoned }` when it started a newer
   * checkpoint over an older one still aligning (then it is waiting, or aligned with one channel).
   */
  onBarrier(channel: number, checkpointId: number): "aligned" | "waiting" | "stale" | { abandoned: number } {
    if (checkpointId <= this.latest && checkpointId !== this.pending) return "stale";
    let abandoned: number | undefined;
    if (this.pending !== undefined && checkpointId > this.pending) {
      abandoned = this.pending;
      this.reset();
    }
    if (this.pending === undefined) {
      this.pending = checkpointId;
      this.latest = checkpointId;
    }
    if (!this.blocked[channel]) {
      this.blocked[channel] = true;
      this.arrived++;
    }
    if (this.isComplete()) {
      this.reset();
      return "aligned";
    }
    return abandoned === undefined ? "waiting" : { abandoned };
  }

  /** A channel ended; returns "aligned" when the checkpoint aligning was waiting only for it. */
  onEnd(channel: number): "aligned" | undefined {
    this.ended[channel] = true;
    if (this.blocked[channel]) {
      this.blocked[channel] = false;
      this.arrived--;
    }
    if (this.pending !== undefined && this.isComplete()) {
      this.reset();
      return "aligned";
    }
    return undefined;
  }

  private isComplete(): boolean {
    let live = 0;
    for (let c = 0; c < this.ended.length; c++) if (!this.ended[c]) live++;
    return this.arrived >= live;
  }

  private reset(): void {
    this.pending = undefined;
    this.arrived = 0;
    this.blocked.fill(false);
  }
}
