import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CsvSyntaxError, parseCsvRecord } from "../../src/connectors/csv.js";

describe("parseCsvRecord", () => {
  it("splits plain fields and keeps empty ones", () => {
    assert.deepEqual(parseCsvRecord("a,b,c", ","), ["a", "b", "c"]);
    assert.deepEqual(parseCsvRecord(",x,", ","), ["", "x", ""]);
    assert.deepEqual(parseCsvRecord("", ","), [""]);
  });

  it("keeps delimiters, doubled quotes and line breaks inside quoted fields", () => {
    assert.deepEqual(parseCsvRecord('"a,b",c', ","), ["a,b", "c"]);
    assert.deepEqual(parseCsvRecord('"say ""hi""",""', ","), ['say "hi"', ""]);
    assert.deepEqual(parseCsvRecord('1,"two\nlines",3', ","), ["1", "two\nlines", "3"]);
    assert.deepEqual(parseCsvRecord('""""', ","), ['"']);
  });

  it("keeps spaces as part of a field", () => {
    assert.deepEqual(parseCsvRecord(" a , b ", ","), [" a ", " b "]);
  });

  it("splits on a delimiter of several characters", () => {
    assert.deepEqual(parseCsvRecord('a::"b::c"::d', "::"), ["a", "b::c", "d"]);
    assert.deepEqual(parseCsvRecord("a\tb", "\t"), ["a", "b"]);
  });

  it("rejects an unterminated quote, text after a closing quote, and a stray quote", () => {
    assert.throws(
      () => parseCsvRecord('a,"bc', ","),
      (e: unknown) => e instanceof CsvSyntaxError && e.column === 3,
    );
    assert.throws(() => parseCsvRecord('"a"b,c', ","), /closing quote must be followed/);
    assert.throws(() => parseCsvRecord('ab"c,d', ","), /quote inside an unquoted field at column 3/);
  });
});
