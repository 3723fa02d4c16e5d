import { KeyflowError } from "@keyflow/functions-sdk";

/** Bytes on a channel did not decode to a stream element. Terminal for that channel. */
export class CorruptElementError extends KeyflowError {
  readonly code = "CODEC_CORRUPT_ELEMENT";
}
