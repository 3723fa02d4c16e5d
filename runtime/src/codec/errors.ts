import { KeyflowError } from "@keyflow/functions-sdk";

/** Bytes on a channel did not decode to a stream element. Terminal for that channel. */
export class CorruptElementError extends KeyflowError {
  readonly code = "CODEC_CORRUPT_ELEMENT";
}

/**
 * A checkpoint store record (metadata, manifest or a block of state entries) whose bytes fail
 * their checksum or do not decode to the expected shape. The store turns it into a named
 * checkpoint damage report; terminal for that record.
 */
export class CorruptStoreRecordError extends KeyflowError {
  readonly code = "CODEC_CORRUPT_STORE_RECORD";
}
