import type { JobDefinition, OperatorNode } from "@keyflow/functions-sdk";
import type { Output } from "../../src/operator/operator.js";
import { SimulatedClock } from "../../src/time/clock.js";
import type { ProcessingTimeService } from "../../src/time/processing-time-service.js";
import { createWindowOperator } from "../../src/window/create-window-operator.js";
import type { WindowOperatorBase } from "../../src/window/window-operator-base.js";

export interface Emitted {
  readonly value: unknown;
  readonly timestamp: number;
}

/**
 * Runs the first window operator of a job on its own, in place of a shard: records and
 * watermarks go in by call, what it emits is kept, and processing time is a SimulatedClock
 * whose timers run as `advance` passes them. For tests that look inside the operator (what it
 * still holds after a long run), which a whole job run cannot show.
 */
export class WindowHarness {
  readonly clock: SimulatedClock;
  readonly emitted: Emitted[] = [];
  readonly side = new Map<string, Emitted[]>();
  readonly watermarks: number[] = [];
  readonly operator: WindowOperatorBase;
  readonly metrics: Record<string, number> = {};

  /** `collect` replaces keeping main-output records in `emitted` (benchmarks count them instead). */
  constructor(
    job: JobDefinition,
    clock = new SimulatedClock(0),
    collect: (value: unknown, timestamp: number) => void = (value, timestamp) =>
      this.emitted.push({ value, timestamp }),
  ) {
    this.clock = clock;
    const graph = job.build();
    const node = graph.nodes.find((n) => n.spec.kind === "window") as OperatorNode;
    if (node?.spec.kind !== "window") throw new Error(`job "${job.name}" has no window operator`);
    const partitioner = node.inputs[0]?.partitioner;
    if (partitioner?.kind !== "hash") throw new Error("the window operator's input is not keyed");
    const output: Output = {
      collect,
      collectSide: (tag, value, timestamp) => {
        const list = this.side.get(tag) ?? [];
        list.push({ value, timestamp });
        this.side.set(tag, list);
      },
      emitWatermark: (timestamp) => this.watermarks.push(timestamp),
      emitWatermarkStatus: () => {},
    };
    const processingTime: ProcessingTimeService = {
      now: () => clock.now(),
      registerTimer: (timestamp, callback) => clock.schedule(timestamp - clock.now(), () => callback(timestamp)),
    };
    this.operator = createWindowOperator(
      {
        node,
        runtime: {
          jobName: job.name,
          operatorName: node.name,
          operatorUid: node.uid,
          shardIndex: 0,
          parallelism: 1,
          maxParallelism: graph.maxParallelism,
        },
        clock,
        processingTime,
        autoWatermarkIntervalMs: 0,
        output,
        keySelectors: [partitioner.key as (value: unknown) => unknown],
        results: {
          add: () => {},
          addMetrics: (_operator, _shard, metrics) => Object.assign(this.metrics, metrics),
        },
      },
      node.spec.window,
    ) as WindowOperatorBase;
  }

  open(): Promise<void> {
    return this.operator.open();
  }
  record(value: unknown, timestamp: number): void {
    this.operator.processRecord(value, timestamp, 0);
  }
  watermark(timestamp: number): void {
    this.operator.processWatermark(timestamp);
  }
  /** Takes what was emitted so far. */
  take(): unknown[] {
    return this.emitted.splice(0).map((e) => e.value);
  }
  async finish(): Promise<void> {
    await this.operator.finish();
    await this.operator.close();
  }
}
