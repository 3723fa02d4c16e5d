import { Packr } from "msgpackr";
import { CorruptElementError } from "./errors.js";

/**
 * What one thread sends another on the feedback loops of per-key functions in one message:
 * per functions operator (by uid) its entries flattened as `[sender, target, entry, sender,
 * target, entry, …]` (an entry is an envelope, plain data, or a checkpoint marker, a number), in
 * the order they were posted; then loop control messages (termination detection), each an array.
 */
export interface FeedbackBatch {
  readonly groups: ReadonlyArray<readonly [uid: string, flat: readonly unknown[]]>;
  readonly controls: readonly (readonly unknown[])[];
}

/**
 * Its own Packr (records with inline structures, like element batches): envelopes repeat a few
 * shapes (`{to, from, message}`, `{type, id}`), which records write once per message.
 */
const packr = new Packr({ useRecords: true, moreTypes: true, bundleStrings: false });

/** Encodes a batch into a new buffer of exactly its size, owned by the caller (for a transfer or a publish). */
export function encodeFeedbackBatch(batch: FeedbackBatch): Uint8Array {
  return Uint8Array.prototype.slice.call(packr.pack([batch.groups, batch.controls]));
}

/** Decodes a batch; bytes of another shape throw CorruptElementError (the link carrying them is broken). */
export function decodeFeedbackBatch(bytes: Uint8Array): FeedbackBatch {
  let decoded: unknown;
  try {
    decoded = packr.unpack(bytes);
  } catch (error) {
    throw new CorruptElementError(`${bytes.byteLength} bytes are not a msgpack feedback batch`, { cause: error });
  }
  if (!Array.isArray(decoded) || !Array.isArray(decoded[0]) || !Array.isArray(decoded[1])) {
    throw new CorruptElementError("a feedback batch is [groups, controls]");
  }
  for (const group of decoded[0] as unknown[]) {
    if (
      !Array.isArray(group) ||
      typeof group[0] !== "string" ||
      !Array.isArray(group[1]) ||
      (group[1] as unknown[]).length % 3 !== 0
    ) {
      throw new CorruptElementError("a feedback group is [uid, [sender, target, entry, …]]");
    }
  }
  for (const control of decoded[1] as unknown[]) {
    if (!Array.isArray(control)) throw new CorruptElementError("a feedback control message is an array");
  }
  return { groups: decoded[0], controls: decoded[1] };
}
