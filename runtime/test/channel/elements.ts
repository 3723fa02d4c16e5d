import fc from "fast-check";
import type { StreamElement } from "../../src/element/stream-element.js";

/**
 * Sequences of stream elements as a producer sends them on one channel: record batches (of
 * numbers, or of same-shaped objects, with or without timestamps), watermarks, idle/active statuses
 * and barriers in any order, then end-of-input. Every batch is distinct, so an out-of-order delivery shows.
 */
export function arbitraryElements(maxLength = 40): fc.Arbitrary<StreamElement[]> {
  const batch = fc.oneof(
    fc.array(fc.integer(), { minLength: 1, maxLength: 4 }),
    fc.array(
      fc.record({
        key: fc.string({ maxLength: 6 }),
        // -0 is left out: msgpack writes it as the integer 0 (the key hash treats them alike too).
        value: fc.double({ noNaN: true }).map((v) => (v === 0 ? 0 : v)),
      }),
      { minLength: 1, maxLength: 4 },
    ),
  );
  const element = fc.oneof(
    { weight: 4, arbitrary: fc.tuple(batch, fc.boolean()).map(([values, timed]) => ({ values, timed })) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 1e12 }).map((timestamp) => ({ timestamp })) },
    { weight: 1, arbitrary: fc.nat({ max: 1000 }).map((checkpointId) => ({ checkpointId })) },
    { weight: 1, arbitrary: fc.boolean().map((idle) => ({ idle })) },
  );
  return fc.array(element, { maxLength }).map((drafts) => {
    const elements: StreamElement[] = drafts.map((draft, seq): StreamElement => {
      if ("values" in draft) {
        // A sequence number in the records makes every batch distinct.
        const values: unknown[] = draft.values.every((value) => typeof value === "number")
          ? [seq, ...draft.values]
          : draft.values.map((value, i) => ({ seq: seq * 100 + i, ...(value as object) }));
        const timestamps = draft.timed ? values.map((_, i) => seq * 10 + i) : undefined;
        return { kind: "records", values, timestamps };
      }
      if ("timestamp" in draft) return { kind: "watermark", timestamp: draft.timestamp };
      if ("idle" in draft) return { kind: "status", idle: draft.idle };
      return { kind: "barrier", checkpointId: draft.checkpointId, timestamp: seq };
    });
    elements.push({ kind: "end" });
    return elements;
  });
}
