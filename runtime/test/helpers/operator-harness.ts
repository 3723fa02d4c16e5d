import type { JobDefinition, OperatorNode } from "@keyflow/functions-sdk";
import type { Output, StreamOperator } from "../../src/operator/operator.js";
import { keyGroupOf, keyGroupRangeOf, shardOfKey } from "../../src/partition/key-groups.js";
import { createOperator } from "../../src/shard/create-operator.js";
import { DELETED, type KeyedStateEntry, type OperatorSnapshot } from "../../src/state/snapshot.js";
import { SimulatedClock } from "../../src/time/clock.js";
import { roundTrip } from "./model-store.js";

/** What an operator emitted: on its main output (`side` undefined) or a side output. */
export interface Emitted {
  readonly value: unknown;
  readonly timestamp: number;
  readonly side: string | undefined;
}

export interface HarnessOptions {
  readonly shardIndex?: number;
  readonly parallelism?: number;
  readonly clock?: SimulatedClock;
}

/**
 * One operator of a real job graph, made by the shard's own factory, driven by hand as one shard
 * of `parallelism`: records on either input, watermarks, processing time (a SimulatedClock whose
 * timers run as `advance` passes them), and checkpoints (snapshot, restore, completion). What it
 * emits is kept. For tests of snapshots and restores, which need the operator itself.
 */
export class OperatorHarness {
  readonly emitted: Emitted[] = [];
  readonly clock: SimulatedClock;
  readonly operator: StreamOperator;
  readonly shardIndex: number;
  readonly parallelism: number;
  readonly maxParallelism: number;
  readonly keySelectors: ReadonlyArray<((value: unknown) => unknown) | undefined>;

  constructor(
    readonly node: OperatorNode,
    maxParallelism: number,
    options: HarnessOptions = {},
  ) {
    this.shardIndex = options.shardIndex ?? 0;
    this.parallelism = options.parallelism ?? 1;
    this.maxParallelism = maxParallelism;
    const clock = options.clock ?? new SimulatedClock(0);
    this.clock = clock;
    const output: Output = {
      collect: (value, timestamp) => this.emitted.push({ value, timestamp, side: undefined }),
      collectSide: (side, value, timestamp) => this.emitted.push({ value, timestamp, side }),
      emitWatermark: () => {},
      emitWatermarkStatus: () => {},
    };
    this.keySelectors = [0, 1].map((input) => {
      const partitioner = node.inputs.find((edge) => edge.inputIndex === input)?.partitioner;
      return partitioner?.kind === "hash" ? (partitioner.key as (value: unknown) => unknown) : undefined;
    });
    this.operator = createOperator({
      node,
      runtime: {
        jobName: "harness",
        operatorName: node.name,
        operatorUid: node.uid,
        shardIndex: this.shardIndex,
        parallelism: this.parallelism,
        maxParallelism,
      },
      clock,
      processingTime: {
        now: () => clock.now(),
        registerTimer: (at, callback) => clock.schedule(at - clock.now(), () => callback(at)),
      },
      autoWatermarkIntervalMs: 0,
      output,
      keySelectors: this.keySelectors,
      results: { add() {}, addMetrics() {} },
    });
  }

  /** The operator named `name` of `job`, as shard `shardIndex` of `parallelism` (not opened). */
  static of(job: JobDefinition, name: string, options: HarnessOptions = {}): OperatorHarness {
    const graph = job.build();
    const node = graph.nodes.find((n) => n.name === name);
    if (node === undefined) throw new TypeError(`the job has no operator named ${name}`);
    return new OperatorHarness(node, node.maxParallelism ?? graph.maxParallelism, options);
  }

  /** The key groups this shard owns. */
  get keyGroups(): { start: number; end: number } {
    return keyGroupRangeOf(this.shardIndex, this.maxParallelism, this.parallelism);
  }

  /** True when the record on `input` belongs to this shard (by its key). */
  owns(value: unknown, input = 0): boolean {
    const selector = this.keySelectors[input];
    if (selector === undefined) return true;
    return shardOfKey(selector(value) as never, this.maxParallelism, this.parallelism) === this.shardIndex;
  }

  async open(): Promise<this> {
    await this.operator.open();
    return this;
  }
  record(value: unknown, timestamp = Number.NaN, input = 0): void {
    this.operator.processRecord(value, timestamp, input);
  }
  watermark(timestamp: number): void {
    this.operator.processWatermark(timestamp);
  }
  /** Main-output values emitted so far, taken. */
  take(): unknown[] {
    return this.emitted.splice(0).map((e) => e.value);
  }

  snapshot(checkpointId: number, mode: "full" | "incremental"): OperatorSnapshot {
    const snapshot = this.operator.snapshotState?.(checkpointId, mode);
    if (snapshot === undefined) throw new TypeError(`${this.node.name} snapshots nothing`);
    return snapshot;
  }

  /** A full snapshot read at once (the state now, for comparisons). */
  state(checkpointId = 1_000_000): KeyedStateEntry[] {
    const snapshot = this.snapshot(checkpointId, "full");
    const entries = [...snapshot.keyed];
    snapshot.release();
    return entries;
  }

  /**
   * Restores the entries of this shard's key groups and the list state, each value decoded anew
   * from msgpack (as a store gives them: operators own what they restore and change it in place).
   */
  async restore(
    entries: readonly KeyedStateEntry[],
    operatorState: Readonly<Record<string, readonly unknown[]>> = {},
  ): Promise<void> {
    const { start, end } = this.keyGroups;
    const mine = entries
      .filter((e) => e.keyGroup >= start && e.keyGroup <= end)
      .map((e) => ({ ...e, value: e.value === DELETED ? DELETED : roundTrip(e.value) }));
    await this.operator.restoreState?.({ keyed: mine, operatorState: roundTrip(operatorState) });
  }

  async end(): Promise<void> {
    await this.operator.finish();
    await this.operator.close();
  }
}

/** The key group of a record's key on `input` of the harness's operator. */
export function keyGroupOfRecord(harness: OperatorHarness, value: unknown, input = 0): number {
  const selector = harness.keySelectors[input] as (value: unknown) => unknown;
  return keyGroupOf(selector(value) as never, harness.maxParallelism);
}
