import { describeRecord, KeyflowError } from "@keyflow/functions-sdk";

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A function's handler threw. Names the function type, the id, the message, the operator and
 * the shard. The job fails (and restarts from its latest checkpoint when it takes checkpoints),
 * unless the functions operator has a dead-letter egress. Terminal for this attempt.
 */
export class FunctionHandlerError extends KeyflowError {
  readonly code = "FUNCTION_HANDLER_FAILED";
  /** The message, shortened (the `record` of other user function errors). */
  readonly record: string;
  constructor(
    readonly operator: string,
    readonly shard: string,
    readonly functionType: string,
    readonly functionId: string,
    message: unknown,
    cause: unknown,
  ) {
    const record = describeRecord(message);
    super(
      `function "${functionType}" id ${JSON.stringify(functionId)} (operator "${operator}", shard ${shard}) ` +
        `failed on message ${record}: ${messageOf(cause)}`,
      { cause },
    );
    this.record = record;
  }
}

/**
 * A message went to a function type the functions operator does not host (a router or a handler
 * addressed it). Names the address and the types there are. Terminal: add the type to the
 * operator's `functions`.
 */
export class UnknownFunctionTypeError extends KeyflowError {
  readonly code = "FUNCTION_TYPE_UNKNOWN";
  constructor(
    readonly operator: string,
    readonly shard: string,
    readonly functionType: string,
    readonly functionId: string,
    known: readonly string[],
  ) {
    super(
      `operator "${operator}" (shard ${shard}): no function type "${functionType}" for id ${JSON.stringify(functionId)}; ` +
        `this operator hosts ${known.map((type) => `"${type}"`).join(", ")}`,
    );
  }
}

/**
 * A shard of a functions operator cannot reach another shard of it: its host was built without a
 * feedback network to the thread or node of that shard (a host embedded by hand, or a placement
 * no link covers). Worker threads of one process and the nodes of a static cluster are reached;
 * terminal otherwise: run the job with `workers: 0`, or give the host a FeedbackNetwork.
 */
export class FeedbackUnreachableError extends KeyflowError {
  readonly code = "FUNCTIONS_FEEDBACK_UNREACHABLE";
  constructor(
    readonly operator: string,
    readonly shard: string,
    missing: readonly number[],
  ) {
    super(
      `operator "${operator}" (shard ${shard}): shards ${missing.join(", ")} of this functions operator run on a ` +
        "thread or node this host has no feedback link to, so messages between functions cannot reach them: " +
        "run with workers: 0, or give the shard host a feedback network (worker threads and static clusters have one)",
    );
  }
}

/**
 * A message between functions encodes to more bytes than the link between two nodes carries in
 * one message (NATS's max_payload). Names both sizes. Terminal: send smaller messages, or raise
 * the server's max_payload.
 */
export class FeedbackMessageTooLargeError extends KeyflowError {
  readonly code = "FUNCTIONS_FEEDBACK_MESSAGE_TOO_LARGE";
  constructor(
    readonly bytes: number,
    readonly maxBytes: number,
  ) {
    super(`a message between functions takes ${bytes} bytes encoded, above the link's limit of ${maxBytes}`);
  }
}

/**
 * Feedback traffic that breaks the protocol: an entry for an operator or shard not hosted where it
 * arrived, a control message of an unknown kind, or no link to a participant. A bug or two jobs
 * sharing subjects; terminal.
 */
export class FeedbackProtocolError extends KeyflowError {
  readonly code = "FUNCTIONS_FEEDBACK_PROTOCOL";
}

/** A handler passed `sendAfter` a delay that is not a finite number of ms >= 0. Thrown to the handler. */
export class InvalidDelayError extends KeyflowError {
  readonly code = "FUNCTION_DELAY_INVALID";
  constructor(delayMs: unknown) {
    super(`sendAfter needs a delay of zero or more ms, got ${String(delayMs)}`);
  }
}

/** A handler passed `cancel` something that is not a token `sendAfter` returned. Thrown to the handler. */
export class InvalidCancellationTokenError extends KeyflowError {
  readonly code = "FUNCTION_CANCELLATION_TOKEN_INVALID";
  constructor(token: unknown) {
    super(`cancel needs a token returned by sendAfter, got ${describeRecord(token, 80)}`);
  }
}
