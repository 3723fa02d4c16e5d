import {
  defineJob,
  generatorSource,
  type JobDefinition,
  type KeyedProcessFunction,
  type Source,
  type SourceOutput,
  type SourceReaderContext,
  valueState,
} from "@keyflow/functions-sdk";

/** The checkpoints benchmark's state: a count per key over a million keys. */
export const KEYS = 1_000_000;

/** Record i's key: a permutation of the million keys per million records (7919 is prime to 10^6), so every key is touched once per million. */
export const keyOf = (i: number): number => (i * 7919) % KEYS;

/** Counts per key in value state (one entry per key in every checkpoint); `onRecord` sees each record. */
function counting(
  onRecord?: () => void,
): KeyedProcessFunction<number, number, never, { count: ReturnType<typeof valueState<number>> }> {
  return {
    state: { count: valueState<number>({ defaultValue: 0 }) },
    processElement(_i, ctx) {
      ctx.state.count.update((ctx.state.count.value() ?? 0) + 1);
      onRecord?.();
    },
  };
}

/** Throughput: `records` generated records, keyed by `keyOf`, counted per key; `onRecord` sees each record. */
export function throughputJob(records: number, onRecord?: () => void): JobDefinition {
  return defineJob({ name: "bench-checkpoints" }, (env) => {
    env
      .fromSource(generatorSource({ count: records, make: keyOf }), "Records")
      .keyBy((k) => k)
      .process(counting(onRecord))
      .name("CountPerKey")
      .uid("count-per-key")
      .discard();
  });
}

/**
 * A source in phases for timing one checkpoint at a time: it emits `phases[0]` records, then
 * waits until `release()` is called, then the next phase, and ends after the last.
 */
export class PhasedSource implements Source<number> {
  readonly maxParallelism = 1;
  private released = 0;
  private wake: (() => void) | undefined;
  constructor(private readonly phases: readonly number[]) {}
  release(): void {
    this.released++;
    this.wake?.();
  }
  createReader(context: SourceReaderContext) {
    let phase = 0;
    let inPhase = 0;
    let emitted = (context.restoredSplits?.[0] as number | undefined) ?? 0;
    return {
      poll: (output: SourceOutput<number>, max: number) => {
        if (phase >= this.phases.length) return "end" as const;
        if (phase > this.released) return new Promise<void>((resolve) => (this.wake = resolve));
        const n = Math.min(max, (this.phases[phase] as number) - inPhase);
        for (let j = 0; j < n; j++) output.collect(keyOf(emitted++));
        inPhase += n;
        if (inPhase === this.phases[phase]) {
          phase++;
          inPhase = 0;
        }
        return "more" as const;
      },
      snapshotSplits: () => [emitted],
    };
  }
}

/** The phased job; `processed` counts records the keyed operator took. */
export function phasedJob(source: PhasedSource, processed: { count: number }): JobDefinition {
  return defineJob({ name: "bench-checkpoints-phased" }, (env) => {
    env
      .fromSource(source, "Records")
      .keyBy((k) => k)
      .process(
        counting(() => {
          processed.count++;
        }),
      )
      .uid("count-per-key")
      .discard();
  });
}
