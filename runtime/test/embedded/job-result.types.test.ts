/**
 * Type behaviour of execute()'s result, pinned for the compiler (this file compiling is the test;
 * the function below is never called). Lives in the runtime's tests because the SDK does not
 * depend on the runtime.
 */
import { it } from "node:test";
import { collectSink, defineJob } from "@keyflow/functions-sdk";
import { execute, type JobResult } from "../../src/index.js";

type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(_proof?: T): void {}

interface Reading {
  readonly id: string;
  readonly temperature: number;
}

export async function resultsAreTypedByTheirSink(): Promise<void> {
  const maxima = collectSink<Reading>("maxima");
  const names = collectSink<string>("names");
  const job = defineJob("typed", (env) => {
    const readings = env.fromCollection<Reading>([]);
    readings
      .keyBy((r) => r.id)
      .maxBy("temperature")
      .collect(maxima);
    readings.map((r) => r.id).collect(names);
    // @ts-expect-error a sink of strings does not take readings
    readings.collect(names);
    // @ts-expect-error sinkTo checks the record type too
    readings.sinkTo(names);
  });
  const result = await execute(job);
  expectType<Equal<typeof result, JobResult>>();
  const got = result.get(maxima);
  expectType<Equal<typeof got, Reading[]>>();
  const gotNames = result.get(names);
  expectType<Equal<typeof gotNames, string[]>>();
  // @ts-expect-error the result is an array of the sink's type
  const wrong: number[] = result.get(names);
  void wrong;
}

it("pins execute()'s result types at compile time (this file compiling is the test)", () => {});
