/**
 * A shard's event time: the minimum watermark over its input channels that are neither ended
 * nor idle. An idle channel (its producer said it has no data) holds nothing back; when every
 * live channel is idle the shard is idle too and says so downstream. A channel that turns active
 * again rejoins the minimum, but the combined watermark never goes back.
 */
export class WatermarkValve {
  private readonly watermarks: number[];
  private readonly ended: boolean[];
  private readonly idle: boolean[];
  private current = Number.NEGATIVE_INFINITY;
  private allIdle = false;

  constructor(channels: number) {
    this.watermarks = new Array<number>(channels).fill(Number.NEGATIVE_INFINITY);
    this.ended = new Array<boolean>(channels).fill(false);
    this.idle = new Array<boolean>(channels).fill(false);
  }

  get watermark(): number {
    return this.current;
  }
  /** True when every live input is idle. */
  get isIdle(): boolean {
    return this.allIdle;
  }

  /** A watermark arrived on `channel`; returns the new combined watermark when it advanced, else undefined. */
  update(channel: number, watermark: number): number | undefined {
    if (watermark <= (this.watermarks[channel] as number)) return undefined;
    this.watermarks[channel] = watermark;
    if (this.idle[channel]) return undefined; // an idle channel's watermark counts once it is active
    return this.advance();
  }

  /** A channel ended: it no longer holds event time back. */
  end(channel: number): number | undefined {
    this.ended[channel] = true;
    return this.advance();
  }

  /**
   * A channel went idle or active. Returns the new combined watermark when it advanced (another
   * channel was holding it back only through this one), else undefined.
   */
  setIdle(channel: number, idle: boolean): number | undefined {
    if (this.idle[channel] === idle) return undefined;
    this.idle[channel] = idle;
    return this.advance();
  }

  /**
   * Whether the shard's idleness changed by the last update: "idle" when every live channel is
   * now idle, "active" when one became active again, undefined when unchanged.
   */
  statusChange(): "idle" | "active" | undefined {
    let live = 0;
    let idle = 0;
    for (let c = 0; c < this.watermarks.length; c++) {
      if (this.ended[c]) continue;
      live++;
      if (this.idle[c]) idle++;
    }
    const nowIdle = live > 0 && idle === live;
    if (nowIdle === this.allIdle) return undefined;
    this.allIdle = nowIdle;
    return nowIdle ? "idle" : "active";
  }

  private advance(): number | undefined {
    let min = Number.POSITIVE_INFINITY;
    let active = 0;
    for (let c = 0; c < this.watermarks.length; c++) {
      if (this.ended[c] || this.idle[c]) continue;
      active++;
      const w = this.watermarks[c] as number;
      if (w < min) min = w;
    }
    if (active === 0 || min <= this.current) return undefined;
    this.current = min;
    return min;
  }
}
