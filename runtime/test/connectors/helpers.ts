import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Source, SourceOutput } from "@keyflow/functions-sdk";

/** A fresh temporary folder for one test; `remove()` deletes it. */
export async function tempFolder(): Promise<{ readonly path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), "keyflow-connectors-"));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Polls reader `shardIndex` of `parallelism` to its end, outside any job, as the shard would. */
export async function readAll<T>(source: Source<T>, shardIndex = 0, parallelism = 1, max = 1000): Promise<T[]> {
  const reader = source.createReader({
    operatorName: "Test",
    shardIndex,
    parallelism,
    now: () => 0,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  });
  const values: T[] = [];
  const output: SourceOutput<T> = { collect: (value) => values.push(value) };
  try {
    for (;;) {
      const before = values.length;
      const result = reader.poll(output, max);
      if (values.length - before > max) throw new Error(`poll emitted ${values.length - before} records, max ${max}`);
      if (result === "end") return values;
      if (result !== "more") await result;
    }
  } finally {
    await reader.close?.();
  }
}
