import type { Source, SourceOutput } from "@keyflow/functions-sdk";

/**
 * Every record of a bounded source, read outside any job by a plain loop over its readers
 * (reader 0 of `parallelism`, then reader 1, …): what the job's source shards emit together.
 */
export async function readSource<T>(source: Source<T>, parallelism = 1): Promise<T[]> {
  const records: T[] = [];
  const output: SourceOutput<T> = { collect: (value) => records.push(value) };
  for (let shardIndex = 0; shardIndex < parallelism; shardIndex++) {
    const reader = source.createReader({
      operatorName: "Plain",
      shardIndex,
      parallelism,
      now: () => 0,
      sleep: () => Promise.resolve(),
    });
    for (;;) {
      const result = reader.poll(output, 1000);
      if (result === "end") break;
      if (result !== "more") await result;
    }
    await reader.close?.();
  }
  return records;
}

/** The records as a sorted list of their JSON: equal for equal multisets, whatever the order. */
export function multiset(records: readonly unknown[]): string[] {
  return records.map((record) => JSON.stringify(record)).sort();
}

/** Records grouped by a key, keeping their order within each group. */
export function groupBy<T>(records: readonly T[], key: (record: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const record of records) {
    const k = key(record);
    const group = groups.get(k);
    if (group === undefined) groups.set(k, [record]);
    else group.push(record);
  }
  return new Map([...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
