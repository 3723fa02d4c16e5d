import { it } from "node:test";
import type { Source } from "@keyflow/functions-sdk";
import { type CsvRow, fileSource } from "../../src/connectors/index.js";

// Compile-time checks: the file type-checks exactly when fileSource's types behave as pinned here.
type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
function expectType<A, B>(_proof: Equal<A, B>): void {}

// Never called: some calls are wrong on purpose and would throw at run time.
function typeChecks(): void {
  const rows = fileSource({ path: "r.csv", format: "csv", csv: { columns: ["id", "temperature"] } });
  expectType<typeof rows, Source<CsvRow<"id" | "temperature">>>(true);

  const headed = fileSource({ path: "r.csv", format: "csv" });
  expectType<typeof headed, Source<CsvRow<string>>>(true);

  const parsed = fileSource({
    path: "r.csv",
    format: "csv",
    csv: { columns: ["id", "temperature"] },
    parse: (row) => ({ id: row.id, temperature: Number(row.temperature) }),
  });
  expectType<typeof parsed, Source<{ id: string; temperature: number }>>(true);

  fileSource({
    path: "r.csv",
    format: "csv",
    csv: { columns: ["id"] },
    // @ts-expect-error: "temperature" is not a named column
    parse: (row) => row.temperature,
  });

  const json = fileSource<{ id: string }>({ path: "r.ndjson", format: "ndjson" });
  expectType<typeof json, Source<{ id: string }>>(true);

  const parsedJson = fileSource({ path: "r.ndjson", format: "ndjson", parse: (value) => String(value) });
  expectType<typeof parsedJson, Source<string>>(true);

  const untyped = fileSource({ path: "r.ndjson", format: "ndjson" });
  expectType<typeof untyped, Source<unknown>>(true);

  // @ts-expect-error: only ndjson and csv
  fileSource({ path: "r.xml", format: "xml" });
  // @ts-expect-error: csv options belong to the csv format
  fileSource({ path: "r.ndjson", format: "ndjson", csv: { header: false } });
}

it("types CSV rows by the named columns and parse results by their return (checked by the compiler)", () => {
  void typeChecks;
});
