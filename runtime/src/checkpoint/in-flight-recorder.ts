import type { RecordBatch } from "../element/stream-element.js";
import type { InFlightBatch, OperatorSnapshot } from "../state/snapshot.js";

/** An unaligned checkpoint whose shard snapshot is taken and whose in-flight records are all known. */
export interface RecordedCheckpoint {
  readonly checkpointId: number;
  /** The operators' snapshots, taken when the first barrier reached the shard. */
  readonly snapshots: OperatorSnapshot[];
  /** Every record the shard took after its snapshot and before the barrier on its channel. */
  readonly inFlight: InFlightBatch[];
}

interface Recording extends RecordedCheckpoint {
  /** Per input channel: still recording (its barrier has not been taken yet, and it has not ended). */
  readonly open: boolean[];
  openCount: number;
}

/**
 * The in-flight data of a shard's unaligned checkpoints (Flink's channel state, FLIP-76). The
 * shard snapshots as soon as barrier n reached it on any input. A record batch of channel c that
 * it processes after that snapshot but that came before barrier n on c was sent before the
 * upstream's snapshot, so it is in neither: it is recorded here (and processed as usual). Such a
 * batch is either taken after the snapshot while c's barrier has not arrived (`capture`), or still
 * queued ahead of the barrier when it arrives (`onBarrier`, which closes c for checkpoint n at
 * once instead of waiting for the queue to be processed). Once every live channel delivered
 * barrier n, or ended, the checkpoint is complete at this shard.
 *
 * Several checkpoints may record at once (a newer one can start before the older one's barriers
 * arrived on every channel); a batch goes to each that is open on its channel. Owned by one
 * shard, on its thread.
 *
 * @example
 * const recorder = new InFlightRecorder(2);
 * recorder.start(7, snapshots, []);       // barrier 7 arrived on channel 0, behind batch a
 * recorder.onBarrier(0, 7, [{ input: 0, batch: a }]); // [] — channel 1 still open
 * recorder.capture(1, 1, b);              // a batch of channel 1 taken before its barrier 7 came
 * recorder.onBarrier(1, 7, []);           // [{ checkpointId: 7, snapshots, inFlight: [a, b] }]
 */
export class InFlightRecorder {
  private readonly ended: boolean[];
  private recordings: Recording[] = [];
  private latest = Number.NEGATIVE_INFINITY;
  /** True while a checkpoint records: the shard's one check per batch when it is false. */
  recording = false;

  constructor(channels: number) {
    this.ended = new Array<boolean>(channels).fill(false);
  }

  /** Whether the shard has not snapshotted for `checkpointId` (nor for a newer one) yet. */
  isNew(checkpointId: number): boolean {
    return checkpointId > this.latest;
  }

  /**
   * The shard snapshotted for `checkpointId`. `pending` are records it must still process that are
   * in no upstream's snapshot (restored in-flight records not replayed yet): they come first.
   * Returns the checkpoint at once when nothing is left to record (every input ended).
   */
  start(
    checkpointId: number,
    snapshots: OperatorSnapshot[],
    pending: readonly InFlightBatch[],
  ): RecordedCheckpoint | undefined {
    this.latest = checkpointId;
    const open = this.ended.map((ended) => !ended);
    const openCount = open.filter(Boolean).length;
    const recording: Recording = { checkpointId, snapshots, inFlight: [...pending], open, openCount };
    if (openCount === 0) return recording;
    this.recordings.push(recording);
    this.recording = true;
    return undefined;
  }

  /** The shard takes `batch` from `channel` (for `input` of its head operator), to process it now. */
  capture(channel: number, input: number, batch: RecordBatch): void {
    let copy: InFlightBatch | undefined;
    for (const recording of this.recordings) {
      if (!recording.open[channel]) continue;
      copy ??= copyOf(input, batch);
      recording.inFlight.push(copy);
    }
  }

  /**
   * Barrier `checkpointId` arrived on `channel` behind `queued`, the batches of that channel the
   * shard has not processed yet: they are in flight, and nothing after the barrier is.
   */
  onBarrier(
    channel: number,
    checkpointId: number,
    queued: ReadonlyArray<{ readonly input: number; readonly batch: RecordBatch }>,
  ): RecordedCheckpoint[] {
    // Only checkpoints up to this one: a newer one still open here started before its own
    // barrier came on this channel, and that barrier (later in the channel) will close it.
    const applies = (recording: Recording) =>
      recording.checkpointId <= checkpointId && recording.open[channel] === true;
    if (queued.length > 0 && this.recordings.some(applies)) {
      const copies = queued.map(({ input, batch }) => copyOf(input, batch));
      for (const recording of this.recordings) if (applies(recording)) recording.inFlight.push(...copies);
    }
    return this.close(channel, applies);
  }

  /** `channel` ended: it has nothing more in flight for any checkpoint. */
  onEnd(channel: number): RecordedCheckpoint[] {
    this.ended[channel] = true;
    return this.close(channel, () => true);
  }

  private close(channel: number, applies: (recording: Recording) => boolean): RecordedCheckpoint[] {
    if (this.recordings.length === 0) return [];
    const done: RecordedCheckpoint[] = [];
    for (const recording of this.recordings) {
      if (!applies(recording) || !recording.open[channel]) continue;
      recording.open[channel] = false;
      if (--recording.openCount === 0) done.push(recording);
    }
    if (done.length > 0) {
      this.recordings = this.recordings.filter((recording) => recording.openCount > 0);
      this.recording = this.recordings.length > 0;
    }
    return done;
  }

  /** Whether a checkpoint still records what `channel` delivers. */
  isOpen(channel: number): boolean {
    return this.recordings.some((recording) => recording.open[channel] === true);
  }

  /** The shard stops (failed, cancelled): what was recording is dropped with its snapshots. */
  clear(): void {
    for (const recording of this.recordings) for (const snapshot of recording.snapshots) snapshot.release();
    this.recordings = [];
    this.recording = false;
  }
}

/**
 * Copies a batch as it came: functions may change the records they are given, and the checkpoint
 * needs them unchanged (the store encodes them later, while the shard goes on).
 */
function copyOf(input: number, batch: RecordBatch): InFlightBatch {
  return {
    input,
    values: structuredClone(batch.values),
    timestamps: batch.timestamps === undefined ? undefined : batch.timestamps.slice(),
  };
}
