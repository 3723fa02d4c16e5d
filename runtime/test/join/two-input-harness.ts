import type { JobDefinition, Key, MapState, OperatorNode, StateDeclarations } from "@keyflow/functions-sdk";
import { MAX_WATERMARK } from "../../src/element/stream-element.js";
import { KeyedCoProcessOperator } from "../../src/operator/co-operators.js";
import type { Output } from "../../src/operator/operator.js";
import { createOperator } from "../../src/shard/create-operator.js";
import { SimulatedClock } from "../../src/time/clock.js";

/** A record the operator emitted: on its main output (`side` undefined) or a side output. */
export interface Emitted {
  readonly value: unknown;
  readonly timestamp: number;
  readonly side: string | undefined;
}

/**
 * Drives one keyed two-input operator of a real job graph by hand: records on either input with
 * chosen timestamps, watermarks exactly when the test wants them, and a look into the operator's
 * keyed state and timers. The operator is the runtime's own (made by the shard's factory); only
 * the channels around it are replaced by direct calls and a list of what it emitted.
 */
export class TwoInputHarness {
  readonly emitted: Emitted[] = [];
  private readonly operator: KeyedCoProcessOperator;
  private readonly handles: Record<string, MapState<unknown, unknown[]>>;

  private constructor(node: OperatorNode) {
    const clock = new SimulatedClock(0);
    const output: Output = {
      collect: (value, timestamp) => this.emitted.push({ value, timestamp, side: undefined }),
      collectSide: (side, value, timestamp) => this.emitted.push({ value, timestamp, side }),
      emitWatermark: () => {},
      emitWatermarkStatus: () => {},
    };
    const keySelectors = [0, 1].map((input) => {
      const partitioner = node.inputs.find((edge) => edge.inputIndex === input)?.partitioner;
      return partitioner?.kind === "hash" ? (partitioner.key as (value: unknown) => unknown) : undefined;
    });
    const operator = createOperator({
      node,
      runtime: {
        jobName: "harness",
        operatorName: node.name,
        operatorUid: node.uid,
        shardIndex: 0,
        parallelism: 1,
        maxParallelism: 128,
      },
      clock,
      processingTime: {
        now: () => clock.now(),
        registerTimer: (at, callback) => clock.schedule(at - clock.now(), () => callback(at)),
      },
      autoWatermarkIntervalMs: 0,
      output,
      keySelectors,
      results: { add() {}, addMetrics() {} },
    });
    if (!(operator instanceof KeyedCoProcessOperator)) throw new TypeError(`${node.name} is not a keyed co-process`);
    this.operator = operator;
    const state = (node.spec as { state: StateDeclarations }).state;
    this.handles = operator.backend.handles(state) as unknown as Record<string, MapState<unknown, unknown[]>>;
  }

  /** Builds the job and opens its operator named `operatorName`. */
  static async open(job: JobDefinition, operatorName: string): Promise<TwoInputHarness> {
    const node = job.build().nodes.find((n) => n.name === operatorName);
    if (node === undefined) throw new TypeError(`the job has no operator named ${operatorName}`);
    const harness = new TwoInputHarness(node);
    await harness.operator.open();
    return harness;
  }

  left(value: unknown, timestamp: number): this {
    this.operator.processRecord(value, timestamp, 0);
    return this;
  }
  right(value: unknown, timestamp: number): this {
    this.operator.processRecord(value, timestamp, 1);
    return this;
  }
  watermark(timestamp: number): this {
    this.operator.processWatermark(timestamp);
    return this;
  }
  /** End of input: the final watermark (which fires every event-time timer), then finish and close. */
  async end(): Promise<void> {
    this.operator.processWatermark(MAX_WATERMARK);
    await this.operator.finish();
    await this.operator.close();
  }

  /** Records held in the map state `name` for `key`, by their map key (an interval join's buffer: by timestamp). */
  buffered(name: string, key: Key): Array<[unknown, unknown[]]> {
    this.operator.backend.currentKey = key;
    const handle = this.handles[name];
    if (handle === undefined) throw new TypeError(`the operator declares no state named ${name}`);
    return handle.entries().sort((a, b) => Number(a[0]) - Number(b[0]));
  }
  /** Number of keys with state in each declared state. */
  keysWithState(): Record<string, number> {
    return this.operator.backend.sizes();
  }
  get eventTimers(): number {
    return this.operator.timers.service.eventTimerCount;
  }
  /** What went to the main output, as [value, timestamp]. */
  main(): Array<[unknown, number]> {
    return this.emitted.filter((e) => e.side === undefined).map((e) => [e.value, e.timestamp]);
  }
}
