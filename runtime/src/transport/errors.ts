import { KeyflowError } from "@keyflow/functions-sdk";

/**
 * No NATS server answered at `url` (refused, unresolvable, or no handshake within the connect
 * timeout). Retriable: the server may come up.
 */
export class NatsUnreachableError extends KeyflowError {
  readonly code = "NATS_UNREACHABLE";
  override readonly retriable = true;
  constructor(
    readonly url: string,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(`cannot reach NATS at ${url} (${reason})`, options);
  }
}

/**
 * The connection to NATS dropped while channels were open. Core NATS does not replay what was
 * in flight, so elements may have been lost: the node fails rather than go on with a gap.
 * Retriable: a restart (from a checkpoint, once those exist) may succeed.
 */
export class NatsDisconnectedError extends KeyflowError {
  readonly code = "NATS_DISCONNECTED";
  override readonly retriable = true;
  constructor(
    readonly url: string,
    options?: ErrorOptions,
  ) {
    super(`lost the connection to NATS at ${url}; elements in flight may be lost`, options);
  }
}

/** A name that must be one NATS subject token (a job id) has characters NATS forbids there. Terminal. */
export class InvalidSubjectTokenError extends KeyflowError {
  readonly code = "NATS_INVALID_SUBJECT_TOKEN";
  constructor(
    readonly what: string,
    readonly value: string,
  ) {
    super(`${what} ${JSON.stringify(value)} cannot be part of a NATS subject: use letters, digits, "-" and "_" only`);
  }
}

/** An element is larger than the server's max_payload, so it cannot cross nodes. Terminal. */
export class ElementTooLargeError extends KeyflowError {
  readonly code = "NATS_ELEMENT_TOO_LARGE";
  constructor(
    readonly channelId: number,
    readonly bytes: number,
    readonly maxPayload: number,
  ) {
    super(
      `channel ${channelId}: an encoded element of ${bytes} bytes exceeds the NATS server's max_payload of ${maxPayload} bytes; use a smaller --batch-size`,
    );
  }
}

/**
 * A channel received more record batches than its reader granted: the credit protocol is broken
 * (two writers for one channel, or a bug). Terminal.
 */
export class CreditViolationError extends KeyflowError {
  readonly code = "CHANNEL_CREDIT_VIOLATED";
  constructor(
    readonly channelId: number,
    readonly received: number,
    readonly granted: number,
  ) {
    super(`channel ${channelId}: received ${received} record batches but granted only ${granted}`);
  }
}

/** A message on a Keyflow subject could not be understood. Terminal. */
export class CorruptMessageError extends KeyflowError {
  readonly code = "NATS_CORRUPT_MESSAGE";
  constructor(
    readonly subject: string,
    problem: string,
    options?: ErrorOptions,
  ) {
    super(`message on ${subject}: ${problem}`, options);
  }
}
