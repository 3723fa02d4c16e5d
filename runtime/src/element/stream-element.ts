/**
 * What flows through channels and mailboxes, in order. A channel never reorders elements: a
 * watermark, barrier or end-of-input is delivered after every record sent before it.
 */

/**
 * A batch of records, with their event timestamps when they have one (NaN where a record has
 * none). Batches are the unit of transfer and of credit; records inside a batch are processed
 * by plain synchronous calls.
 */
export interface RecordBatch {
  readonly kind: "records";
  readonly values: unknown[];
  /** Parallel to `values`; undefined when no record of the batch has a timestamp. */
  readonly timestamps: number[] | undefined;
}

/** Event time has reached `timestamp`: no record with a smaller timestamp should follow. */
export interface Watermark {
  readonly kind: "watermark";
  readonly timestamp: number;
}

/**
 * Whether the producer of this channel is idle (has no data and so holds back no event time) or
 * active again. An idle channel is left out of the downstream minimum watermark until it sends
 * an active status or a record.
 */
export interface WatermarkStatus {
  readonly kind: "status";
  readonly idle: boolean;
}

/** Marks the cut of checkpoint `checkpointId` in a channel. */
export interface Barrier {
  readonly kind: "barrier";
  readonly checkpointId: number;
  readonly timestamp: number;
  /** A savepoint's barrier: every shard writes its state in full. Absent for a checkpoint. */
  readonly savepoint?: true;
  /**
   * An unaligned checkpoint's barrier (never a savepoint's): a shard acts on the first one to reach
   * it, ahead of the elements queued before it, and keeps the records of each input from then
   * until that input's barrier as in-flight data of the checkpoint. Absent: aligned.
   */
  readonly unaligned?: true;
}

/** The producer of this channel will send nothing more. */
export interface EndOfInput {
  readonly kind: "end";
}

export type StreamElement = RecordBatch | Watermark | WatermarkStatus | Barrier | EndOfInput;

export const END_OF_INPUT: EndOfInput = Object.freeze({ kind: "end" });
export const IDLE: WatermarkStatus = Object.freeze({ kind: "status", idle: true });
export const ACTIVE: WatermarkStatus = Object.freeze({ kind: "status", idle: false });

/** The watermark sent at end of input: event time is complete. */
export const MAX_WATERMARK = Number.MAX_SAFE_INTEGER;
