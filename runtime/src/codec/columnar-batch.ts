/**
 * A columnar layout for record batches that cross a thread or a node, in the spirit of Arrow:
 * when every record of a batch is a plain object with the same fields, the batch is written as
 * one column per field — numbers as an Int32Array when every one is a 32-bit integer, else a
 * Float64Array, strings as one concatenated string with a
 * Uint32Array of lengths, anything else as an array — and msgpackr writes those few large values.
 *
 * Why: msgpackr's per-record encoding costs about 210 ns per {key, value} record on this machine,
 * and on a keyed edge at parallelism 2 half of all records cross threads, which cost more than
 * the whole job on one thread. Columns move the per-record work to a tight compiled loop and a
 * memcpy (measured in the channel benchmark; see runtime/README.md). A batch of any other shape
 * (mixed fields, primitives, nested arrays) falls back to msgpackr's record encoding unchanged.
 *
 * Decoding rebuilds objects with a compiled literal, so every record of a shape shares one
 * hidden class downstream.
 */

/** A column: numbers, strings (concatenated + lengths in UTF-16 code units), or any values. */
export type Column = Int32Array | Float64Array | [string, Uint32Array] | unknown[];

/** Field names and one column per field; the number of records is the columns' length. */
export interface ColumnarRecords {
  readonly fields: string[];
  readonly columns: Column[];
  readonly length: number;
}

type Extractor = (values: unknown[]) => unknown[][] | undefined;
type Builder = (columns: ArrayLike<unknown>[], length: number) => unknown[];

const extractors = new Map<string, Extractor>();
const builders = new Map<string, Builder>();
const MAX_CACHED_SHAPES = 1024;

/** Columns of a batch of same-shaped plain objects, or undefined when the batch is not one. */
export function toColumns(values: unknown[]): ColumnarRecords | undefined {
  const first = values[0];
  if (typeof first !== "object" || first === null || Array.isArray(first)) return undefined;
  const proto = Object.getPrototypeOf(first);
  if (proto !== Object.prototype && proto !== null) return undefined;
  const fields = Object.keys(first);
  // An own "__proto__" field (JSON.parse makes one) would become the prototype in the compiled
  // literal that rebuilds records; msgpackr's record encoding handles it safely.
  if (fields.length === 0 || fields.length > 64 || fields.includes("__proto__")) return undefined;
  const shape = fields.join("\u0000");
  let extract = extractors.get(shape);
  if (extract === undefined) {
    if (extractors.size >= MAX_CACHED_SHAPES) return undefined;
    extract = compileExtractor(fields);
    extractors.set(shape, extract);
  }
  const raw = extract(values);
  if (raw === undefined) return undefined;
  const columns = raw.map(toColumn);
  // A column of mixed values that happens to look like a string column ([text, Uint32Array])
  // would decode as one: such a batch keeps msgpackr's record encoding.
  for (let i = 0; i < columns.length; i++)
    if (columns[i] === raw[i] && looksLikeStrings(columns[i] as Column)) return undefined;
  return { fields, columns, length: values.length };
}

/** The records of a columnar batch, as plain objects. */
export function fromColumns(records: ColumnarRecords): unknown[] {
  const shape = records.fields.join("\u0000");
  let build = builders.get(shape);
  if (build === undefined) {
    build = compileBuilder(records.fields);
    if (builders.size < MAX_CACHED_SHAPES) builders.set(shape, build);
  }
  return build(
    records.columns.map((column) => fromColumn(column, records.length)),
    records.length,
  );
}

function toColumn(values: unknown[]): Column {
  const n = values.length;
  const first = typeof values[0];
  if (first === "number") {
    // Integers travel as an Int32Array so they come back as small integers: V8 shares one hidden
    // class between every `{key, value}` literal of a process, and a double written into `value`
    // by the decoder turns that field into a boxed double for the user's own records too (measured:
    // the p2 keyed sum's generator ran 4× slower per record, and every site saw two maps).
    const ints = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const value = values[i];
      if (typeof value !== "number") return values;
      if ((value | 0) !== value || (value === 0 && 1 / value < 0)) return toFloatColumn(values, i, ints);
      ints[i] = value;
    }
    return ints;
  }
  if (first === "string") {
    const lengths = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const value = values[i];
      if (typeof value !== "string") return values;
      lengths[i] = value.length;
    }
    return [(values as string[]).join(""), lengths];
  }
  return values;
}

/** The rest of a number column from `from` on, as doubles (the first `from` were integers). */
function toFloatColumn(values: unknown[], from: number, ints: Int32Array): Column {
  const n = values.length;
  // Filled by index: Float64Array.from goes through the iterator protocol (measured 3× slower).
  const numbers = new Float64Array(n);
  for (let i = 0; i < from; i++) numbers[i] = ints[i] as number;
  for (let i = from; i < n; i++) {
    const value = values[i];
    if (typeof value !== "number") return values;
    numbers[i] = value;
  }
  return numbers;
}

function looksLikeStrings(column: Column): boolean {
  return (
    Array.isArray(column) && column.length === 2 && typeof column[0] === "string" && column[1] instanceof Uint32Array
  );
}

/** A column as something indexable by record; number columns are read straight from their typed array. */
function fromColumn(column: Column, n: number): ArrayLike<unknown> {
  if (column instanceof Int32Array || column instanceof Float64Array) return column;
  if (column.length === 2 && typeof column[0] === "string" && column[1] instanceof Uint32Array) {
    const [text, lengths] = column as [string, Uint32Array];
    const out = new Array<string>(n);
    let at = 0;
    for (let i = 0; i < n; i++) {
      const end = at + (lengths[i] as number);
      out[i] = text.substring(at, end);
      at = end;
    }
    return out;
  }
  return column as unknown[];
}

function compileExtractor(fields: string[]): Extractor {
  const names = fields.map((field) => JSON.stringify(field));
  const declare = names.map((_, i) => `const c${i} = new Array(n);`).join(" ");
  const guard = [`k !== ${fields.length}`, ...names.map((name) => `!(${name} in r)`)].join(" || ");
  const assign = names.map((name, i) => `c${i}[i] = r[${name}];`).join(" ");
  const body = `const n = v.length; ${declare}
    for (let i = 0; i < n; i++) {
      const r = v[i];
      if (typeof r !== "object" || r === null) return undefined;
      let k = 0; for (const _ in r) k++;
      if (${guard}) return undefined;
      ${assign}
    }
    return [${names.map((_, i) => `c${i}`).join(", ")}];`;
  return new Function("v", body) as Extractor;
}

function compileBuilder(fields: string[]): Builder {
  const names = fields.map((field) => JSON.stringify(field));
  const unpack = names.map((_, i) => `const c${i} = cols[${i}];`).join(" ");
  const literal = names.map((name, i) => `${name}: c${i}[i]`).join(", ");
  const body = `${unpack} const out = new Array(n); for (let i = 0; i < n; i++) out[i] = { ${literal} }; return out;`;
  return new Function("cols", "n", body) as Builder;
}
