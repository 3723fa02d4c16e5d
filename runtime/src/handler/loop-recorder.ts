import type { Envelope, InboxEntry } from "./feedback-loop.js";

/** A checkpoint this shard snapshotted whose loop messages are still being recorded. */
export interface LoopRecording {
  readonly checkpointId: number;
  /** Messages that crossed the cut into this shard: sent before their sender's snapshot, handled after this shard's. */
  readonly recorded: Envelope[];
  /** Per sender shard: its marker for this checkpoint has not been taken yet. */
  readonly open: boolean[];
  openCount: number;
}

/**
 * The channel state of one functions shard's feedback inbox (Chandy–Lamport, as Flink StateFun's
 * feedback channel logs its messages at a barrier), for every checkpoint at once. Each shard of
 * the loop snapshots when its ingress barriers align — the loop never takes part in alignment, so a
 * cycle cannot block it — and right after its snapshot puts a marker for the checkpoint into every
 * shard's inbox (its own included), behind the messages it sent before. An inbox keeps each
 * sender's order, so for shard s and sender r:
 *
 * - before s snapshotted n, a message of r behind r's marker n was sent after r's cut: s must not
 *   handle it yet. Taking marker n blocks r's channel (`isBlocked`) until s snapshots n (or n is
 *   aborted, or s snapshots a newer one: then n can never complete); what r sent meanwhile is held
 *   (`hold`) and handed back in order (`onSnapshot`, `onAborted`) to be taken again;
 * - after s snapshotted n, a message of r ahead of r's marker n crossed the cut: it is handled as
 *   usual and also recorded for n (`onMessage`). Taking marker n closes r's channel for n;
 * - s's part of n is whole when it snapshotted n and took every shard's marker n.
 *
 * A marker also closes older recordings (a sender that skipped checkpoint k, because a newer
 * barrier overtook k where it aligned, never sends marker k; k is aborted anyway). When the whole
 * loop has finished (`onQuiet`), nothing can be in flight: every recording is whole.
 *
 * Concurrent checkpoints each record on their own; a message goes to every recording open on its
 * sender's channel. Owned by one dispatcher shard, on its thread.
 *
 * @example
 * const loop = new LoopRecorder(2);
 * loop.onSnapshot(7);                // shard 0 snapshotted checkpoint 7
 * loop.onMessage(1, envelope);       // from shard 1, which has not snapshotted 7: recorded
 * loop.onMarker(0, 7);               // [] — still waiting for shard 1's marker
 * loop.onMarker(1, 7);               // [{ checkpointId: 7, recorded: [envelope], … }]
 */
export class LoopRecorder {
  /** The newest checkpoint this shard snapshotted or saw aborted: markers up to it block nothing. */
  private passed = Number.NEGATIVE_INFINITY;
  /** Per sender: the newest marker taken from it. */
  private readonly lastMarker: number[];
  /** Per sender: entries taken while its channel was blocked, in order. */
  private readonly held: InboxEntry[][];
  private heldCount = 0;
  private recordings: LoopRecording[] = [];
  /** Checkpoints aborted before this shard snapshotted them: nothing is recorded for them. */
  private readonly aborted = new Set<number>();
  /** True while a checkpoint records: the one check per message when it is false. */
  recording = false;

  constructor(parallelism: number) {
    this.lastMarker = new Array<number>(parallelism).fill(Number.NEGATIVE_INFINITY);
    this.held = Array.from({ length: parallelism }, () => []);
  }

  /** Whether entries from `sender` must wait: its marker for a checkpoint this shard has not snapshotted was taken. */
  isBlocked(sender: number): boolean {
    return (this.lastMarker[sender] as number) > this.passed;
  }

  /** Keeps an entry of a blocked sender until its channel opens again. */
  hold(sender: number, entry: InboxEntry): void {
    (this.held[sender] as InboxEntry[]).push(entry);
    this.heldCount++;
  }

  /** Entries held now (they still count as in flight on the loop). */
  get holding(): number {
    return this.heldCount;
  }

  /** A message of `sender` is handled now: it crossed the cut of every checkpoint open on that channel. */
  onMessage(sender: number, envelope: Envelope): void {
    let copy: Envelope | undefined;
    for (const recording of this.recordings) {
      if (!recording.open[sender]) continue;
      // Copied as it came: the handler may change its message, and the store encodes it later.
      copy ??= structuredClone(envelope);
      recording.recorded.push(copy);
    }
  }

  /** Marker `checkpointId` of `sender` taken: returns the recordings it made whole. */
  onMarker(sender: number, checkpointId: number): LoopRecording[] {
    if (checkpointId > (this.lastMarker[sender] as number)) this.lastMarker[sender] = checkpointId;
    if (this.recordings.length === 0) return [];
    const done: LoopRecording[] = [];
    for (const recording of this.recordings) {
      if (recording.checkpointId > checkpointId || !recording.open[sender]) continue;
      recording.open[sender] = false;
      if (--recording.openCount === 0) done.push(recording);
    }
    return this.remove(done);
  }

  /**
   * This shard snapshotted `checkpointId`: starts recording it (undefined when it was aborted
   * already), and returns the held entries whose channels open again, to be taken before anything
   * else of the inbox (per sender in order).
   */
  onSnapshot(checkpointId: number): { recording: LoopRecording | undefined; released: Array<[number, InboxEntry]> } {
    let recording: LoopRecording | undefined;
    if (!this.aborted.has(checkpointId)) {
      // A sender whose marker for it (or a newer one) was taken sent nothing more before its cut.
      const open = this.lastMarker.map((marker) => marker < checkpointId);
      recording = { checkpointId, recorded: [], open, openCount: open.filter(Boolean).length };
      if (recording.openCount > 0) this.recordings.push(recording);
      this.recording = this.recordings.length > 0;
    }
    for (const id of this.aborted) if (id <= checkpointId) this.aborted.delete(id);
    return { recording, released: this.pass(checkpointId) };
  }

  /**
   * Checkpoint `checkpointId` was aborted: its recording (if any) is dropped and returned, and
   * channels blocked for it open again (handling their messages before this shard's snapshot of
   * it, should it still come, only spoils a checkpoint that cannot complete).
   */
  onAborted(checkpointId: number): {
    dropped: LoopRecording | undefined;
    released: Array<[number, InboxEntry]>;
  } {
    const dropped = this.recordings.find((recording) => recording.checkpointId === checkpointId);
    if (dropped !== undefined) this.remove([dropped]);
    else if (checkpointId > this.passed) this.aborted.add(checkpointId);
    return { dropped, released: this.pass(checkpointId) };
  }

  /** Every shard of the loop finished: nothing is in flight any more, every recording is whole. */
  onQuiet(): LoopRecording[] {
    return this.remove([...this.recordings]);
  }

  /** The shard stops: everything is dropped. */
  clear(): void {
    this.recordings = [];
    this.recording = false;
    for (const held of this.held) held.length = 0;
    this.heldCount = 0;
  }

  private pass(checkpointId: number): Array<[number, InboxEntry]> {
    if (checkpointId > this.passed) this.passed = checkpointId;
    const released: Array<[number, InboxEntry]> = [];
    if (this.heldCount === 0) return released;
    this.held.forEach((held, sender) => {
      if (held.length === 0 || this.isBlocked(sender)) return;
      for (const entry of held) released.push([sender, entry]);
      this.heldCount -= held.length;
      held.length = 0;
    });
    return released;
  }

  private remove(done: LoopRecording[]): LoopRecording[] {
    if (done.length > 0) {
      this.recordings = this.recordings.filter((recording) => !done.includes(recording));
      this.recording = this.recordings.length > 0;
    }
    return done;
  }
}
