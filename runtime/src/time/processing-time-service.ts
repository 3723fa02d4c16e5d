/**
 * Processing-time callbacks that run on a shard's own thread, between mailbox elements, never
 * during one: a callback may touch the operator's state and emit records. The shard implements
 * it on top of its Clock (a SimulatedClock in tests, so nothing sleeps).
 */
export interface ProcessingTimeService {
  now(): number;
  /** Runs `callback(time)` in the shard's mailbox once the clock reaches `timestamp`; returns a cancel function. */
  registerTimer(timestamp: number, callback: (time: number) => void): () => void;
}
