// The job of the recovery measurement, run by `keyflow run --state-dir`: a million keys of state,
// then a slow trickle of records so it never ends; the first record a process handles is
// announced on stderr with its time, so the runner sees when a restarted process processes again.
import { defineJob, generatorSource, valueState } from "@keyflow/functions-sdk";
import { keyOf } from "./checkpoints-job.js";

let announced = false;

export default defineJob({ name: "bench-checkpoints-recovery" }, (env) => {
  env
    .fromSource(
      generatorSource({
        make: keyOf,
        // A million records at full speed, then 1000 a second (rate applies from the start, so make it big).
        ratePerSecond: Number(process.env.KEYFLOW_BENCH_RATE ?? 400_000),
      }),
      "Records",
    )
    .keyBy((k) => k)
    .process({
      state: { count: valueState<number>({ defaultValue: 0 }) },
      processElement(_k, ctx) {
        if (!announced) {
          announced = true;
          console.error(`bench: processing at ${Date.now()}`);
        }
        ctx.state.count.update((ctx.state.count.value() ?? 0) + 1);
      },
    })
    .uid("count-per-key")
    .discard();
});
