/**
 * A shard's event time: the minimum watermark over its input channels that have not ended.
 * `update` returns the new combined watermark when it advanced, or undefined.
 */
export class WatermarkValve {
  private readonly watermarks: number[];
  private readonly ended: boolean[];
  private current = Number.NEGATIVE_INFINITY;

  constructor(channels: number) {
    this.watermarks = new Array<number>(channels).fill(Number.NEGATIVE_INFINITY);
    this.ended = new Array<boolean>(channels).fill(false);
  }

  get watermark(): number {
    return this.current;
  }

  update(channel: number, watermark: number): number | undefined {
    if (watermark <= (this.watermarks[channel] as number)) return undefined;
    this.watermarks[channel] = watermark;
    return this.advance();
  }

  /** A channel ended: it no longer holds event time back. */
  end(channel: number): number | undefined {
    this.ended[channel] = true;
    return this.advance();
  }

  private advance(): number | undefined {
    let min = Number.POSITIVE_INFINITY;
    let active = 0;
    for (let c = 0; c < this.watermarks.length; c++) {
      if (this.ended[c]) continue;
      active++;
      const w = this.watermarks[c] as number;
      if (w < min) min = w;
    }
    if (active === 0 || min <= this.current) return undefined;
    this.current = min;
    return min;
  }
}
