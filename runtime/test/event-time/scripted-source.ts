import type { Source, SourceReaderContext, WatermarkGenerator } from "@keyflow/functions-sdk";

/** One step of a scripted split: emit records (with timestamps), or wait for processing time to pass. */
export type Step<T> = { readonly emit: ReadonlyArray<readonly [T, number]> } | { readonly sleep: number };

/**
 * A source whose every split follows its own script, waiting on the runtime's clock between
 * steps, so a test that advances a SimulatedClock decides when each record arrives.
 */
export function scriptedSource<T>(scripts: ReadonlyArray<ReadonlyArray<Step<T>>>): Source<T> {
  return {
    maxParallelism: scripts.length,
    createReader(context: SourceReaderContext) {
      const steps = [...(scripts[context.shardIndex] ?? [])];
      return {
        poll(output) {
          const step = steps.shift();
          if (step === undefined) return "end";
          if ("sleep" in step) return context.sleep(step.sleep);
          for (const [value, timestamp] of step.emit) output.collect(value, timestamp);
          return "more";
        },
      };
    },
  };
}

/** A punctuated bounded-out-of-orderness generator: after every record, watermark = max − bound − 1. */
export function punctuated<T>(boundMs: number): () => WatermarkGenerator<T> {
  return () => {
    let max = Number.NEGATIVE_INFINITY;
    return {
      onEvent(_event, timestamp, output) {
        if (timestamp > max) max = timestamp;
        output.emitWatermark(max - boundMs - 1);
      },
      onPeriodicEmit() {},
    };
  };
}

/** Lets queued mails and scheduler ticks run: a few turns of the event loop. */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}
