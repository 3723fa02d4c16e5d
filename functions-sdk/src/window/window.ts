/**
 * A window: a finite bucket of a keyed stream. `maxTimestamp()` is the last event time that
 * belongs to it; event-time triggers fire when the watermark passes it.
 */
export interface Window {
  maxTimestamp(): number;
}

/** A window of event or processing time, [start, end): `start` inclusive, `end` exclusive. */
export class TimeWindow implements Window {
  constructor(
    readonly start: number,
    readonly end: number,
  ) {}

  maxTimestamp(): number {
    return this.end - 1;
  }

  /** True when the two windows overlap or touch (session windows merge then). */
  intersects(other: TimeWindow): boolean {
    return this.start <= other.end && this.end >= other.start;
  }

  /** The smallest window covering both. */
  cover(other: TimeWindow): TimeWindow {
    return new TimeWindow(Math.min(this.start, other.start), Math.max(this.end, other.end));
  }

  equals(other: TimeWindow): boolean {
    return this.start === other.start && this.end === other.end;
  }

  toString(): string {
    return `TimeWindow[${this.start}, ${this.end})`;
  }

  /** Start of the window of size `size` (shifted by `offset`) that holds `timestamp`: Flink's formula. */
  static startOf(timestamp: number, size: number, offset = 0): number {
    const remainder = (timestamp - offset) % size;
    return remainder < 0 ? timestamp - (remainder + size) : timestamp - remainder;
  }
}

/** The one window of global windows: it never ends, so only a custom or count trigger fires it. */
export class GlobalWindow implements Window {
  static readonly instance = new GlobalWindow();
  private constructor() {}
  maxTimestamp(): number {
    return Number.MAX_SAFE_INTEGER;
  }
  toString(): string {
    return "GlobalWindow";
  }
}
