const QUOTE = 34; // "

/** A CSV record that breaks the format; `column` is 1-based in the record's text. */
export class CsvSyntaxError extends Error {
  constructor(
    readonly problem: string,
    readonly column: number,
  ) {
    super(`${problem} at column ${column}`);
  }
}

/**
 * Splits one CSV record (RFC 4180) into its fields. A field is either unquoted text without
 * quotes, or quoted: `"a,b"` holds the delimiter, `"say ""hi"""` a doubled quote, and a quoted
 * field may span lines (the record's text then contains the line breaks). Spaces are part of a
 * field, as the RFC says. Throws CsvSyntaxError on a stray or unterminated quote.
 */
export function parseCsvRecord(text: string, delimiter: string): string[] {
  const fields: string[] = [];
  const length = text.length;
  let i = 0;
  for (;;) {
    if (text.charCodeAt(i) === QUOTE) {
      let value = "";
      let from = i + 1;
      for (;;) {
        const close = text.indexOf('"', from);
        if (close < 0) throw new CsvSyntaxError("unterminated quoted field", i + 1);
        value += text.slice(from, close);
        if (text.charCodeAt(close + 1) === QUOTE) {
          value += '"';
          from = close + 2;
          continue;
        }
        i = close + 1;
        break;
      }
      if (i < length && !text.startsWith(delimiter, i)) {
        throw new CsvSyntaxError("a closing quote must be followed by the delimiter or the end of the record", i + 1);
      }
      fields.push(value);
    } else {
      const next = text.indexOf(delimiter, i);
      const end = next < 0 ? length : next;
      const value = text.slice(i, end);
      const quote = value.indexOf('"');
      if (quote >= 0) throw new CsvSyntaxError("a quote inside an unquoted field", i + quote + 1);
      fields.push(value);
      i = end;
    }
    if (i >= length) return fields;
    i += delimiter.length; // past the delimiter: another field follows, possibly empty
  }
}
