import type { Output, StreamOperator } from "../operator/operator.js";

/** Where an operator's records go: a chained operator (a direct call) or a record writer. */
export interface RecordTarget {
  push(value: unknown, timestamp: number): void;
  watermark(timestamp: number): void;
  status(idle: boolean): void;
}

/** Feeds a chained operator: records and watermarks are plain synchronous calls. */
export class ChainedTarget implements RecordTarget {
  constructor(private readonly operator: StreamOperator) {}
  push(value: unknown, timestamp: number): void {
    this.operator.processRecord(value, timestamp, 0);
  }
  watermark(timestamp: number): void {
    this.operator.processWatermark(timestamp);
  }
  status(idle: boolean): void {
    this.operator.processWatermarkStatus(idle);
  }
}

/** An operator's output: its main targets, and targets per side-output tag. */
export class OperatorOutput implements Output {
  private readonly everyTarget: RecordTarget[];

  constructor(
    private readonly main: RecordTarget[],
    private readonly side: ReadonlyMap<string, RecordTarget[]>,
  ) {
    this.everyTarget = [...main];
    for (const targets of side.values()) this.everyTarget.push(...targets);
  }

  collect(value: unknown, timestamp: number): void {
    const main = this.main;
    for (let i = 0; i < main.length; i++) (main[i] as RecordTarget).push(value, timestamp);
  }

  collectSide(tagId: string, value: unknown, timestamp: number): void {
    const targets = this.side.get(tagId);
    if (targets === undefined) return;
    for (const target of targets) target.push(value, timestamp);
  }

  emitWatermark(timestamp: number): void {
    for (const target of this.everyTarget) target.watermark(timestamp);
  }

  emitWatermarkStatus(idle: boolean): void {
    for (const target of this.everyTarget) target.status(idle);
  }
}
