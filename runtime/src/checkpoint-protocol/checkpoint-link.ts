import type { DownMessage, RestoreRequest, UpMessage } from "./checkpoint-messages.js";

/** Ends a subscription or a served request handler. */
export interface LinkSubscription {
  unsubscribe(): void;
}

/**
 * The leader's end of the checkpoint protocol (see checkpoint-messages.ts): it sends triggers and
 * notifications down to every follower, hears their snapshots and declines, and answers their
 * restore requests.
 *
 * Ordering: up messages of one follower arrive in the order it sent them (a shard's entries before
 * its report). Thread: the leader's; handlers run on it, one at a time.
 * Lifecycle: the link outlives the leader; the leader unsubscribes in `stop()`.
 *
 * @example
 * leaderLink.subscribeUp((message) => console.log(message.type));
 * leaderLink.publishDown({ type: "trigger", id: 7, timestamp: Date.now(), savepoint: false });
 */
export interface LeaderLink {
  /** Sends a message to every follower. */
  publishDown(message: DownMessage): void;
  subscribeUp(handler: (message: UpMessage) => void): LinkSubscription;
  /**
   * Answers restore requests with what `handler` resolves with; a handler that throws answers
   * `{ error: message }` (an ErrorReply), so the follower hears why instead of timing out.
   */
  serveRestore(handler: (request: RestoreRequest) => unknown): LinkSubscription;
}

/**
 * A follower's end: it hears triggers and notifications, sends snapshots, declines and
 * acknowledgements up, and asks the leader for restore state. Same ordering and thread rules as
 * LeaderLink, from the follower's side.
 */
export interface FollowerLink {
  publishUp(message: UpMessage): void;
  subscribeDown(handler: (message: DownMessage) => void): LinkSubscription;
  /** Resolves with the leader's reply (possibly an ErrorReply), or rejects after `timeoutMs`. */
  requestRestore<T>(request: RestoreRequest, timeoutMs: number): Promise<T>;
}

/**
 * Both ends, as one transport offers them: NATS (`NatsCheckpointLink`), where every node holds a
 * link and any one may lead. Worker threads have one end each (`PoolCheckpointLink` on the main
 * thread, `ThreadCheckpointLink` in a worker).
 */
export type CheckpointLink = LeaderLink & FollowerLink;
