import { decodeValue, encodeValue } from "../codec/element-codec.js";
import type { Clock } from "../time/clock.js";
import type { FollowerLink, LeaderLink, LinkSubscription } from "./checkpoint-link.js";
import type { DownMessage, RestoreRequest, UpMessage } from "./checkpoint-messages.js";

/**
 * A checkpoint message on a worker's port, beside the port's other messages (results, outcome).
 * The body is msgpack, as on NATS and on disk, so a snapshot's values cross a thread exactly as
 * they would cross nodes (class instances become plain objects here too). Its buffer is cloned,
 * not transferred: a thread that hosts shards must never detach a buffer (see
 * state/column-buffers.ts).
 */
export interface CheckpointEnvelope {
  readonly type: "checkpoint";
  readonly kind: "down" | "up" | "request" | "reply";
  /** Pairs a reply with its request. */
  readonly requestId?: number;
  readonly body: Uint8Array;
}

/** Posts an envelope on a port. */
export type PostEnvelope = (envelope: CheckpointEnvelope) => void;

function envelope(kind: CheckpointEnvelope["kind"], value: unknown, requestId?: number): CheckpointEnvelope {
  const body = encodeValue(value);
  return requestId === undefined ? { type: "checkpoint", kind, body } : { type: "checkpoint", kind, requestId, body };
}

/**
 * The main thread's end of the checkpoint protocol for a pool of worker threads: the leader's
 * link, over each worker's port to the main thread. Down messages go to every attached worker;
 * up messages and restore requests from any of them reach the handlers.
 *
 * Ordering: a worker's port delivers in send order, and the worker posts its collect results on
 * the same port, so results committed at a checkpoint arrive before the worker's acknowledgement
 * of it. Thread: the main thread.
 */
export class PoolCheckpointLink implements LeaderLink {
  private readonly ports = new Map<number, PostEnvelope>();
  private upHandlers: Array<(message: UpMessage) => void> = [];
  private restoreHandler: ((request: RestoreRequest) => unknown) | undefined;

  /** Adds worker `thread`'s port (before the worker may send anything). */
  attach(thread: number, post: PostEnvelope): void {
    this.ports.set(thread, post);
  }

  /** Drops every port (the pool ended). */
  detachAll(): void {
    this.ports.clear();
  }

  /** An envelope arrived from worker `thread`. */
  receive(thread: number, message: CheckpointEnvelope): void {
    if (message.kind === "up") {
      const value = decodeValue<UpMessage>(message.body);
      for (const handler of this.upHandlers) handler(value);
    } else if (message.kind === "request") {
      void this.answer(thread, message.requestId ?? -1, decodeValue<RestoreRequest>(message.body));
    }
  }

  private async answer(thread: number, requestId: number, request: RestoreRequest): Promise<void> {
    let reply: unknown;
    try {
      if (this.restoreHandler === undefined) throw new Error("no leader serves restore requests");
      reply = await this.restoreHandler(request);
    } catch (thrown) {
      reply = { error: thrown instanceof Error ? thrown.message : String(thrown) };
    }
    // The worker may have been terminated meanwhile (a restart): then nobody waits for the answer.
    const post = this.ports.get(thread);
    if (post !== undefined) post(envelope("reply", reply, requestId));
  }

  publishDown(message: DownMessage): void {
    for (const post of this.ports.values()) post(envelope("down", message));
  }

  subscribeUp(handler: (message: UpMessage) => void): LinkSubscription {
    this.upHandlers.push(handler);
    return {
      unsubscribe: () => {
        this.upHandlers = this.upHandlers.filter((h) => h !== handler);
      },
    };
  }

  serveRestore(handler: (request: RestoreRequest) => unknown): LinkSubscription {
    this.restoreHandler = handler;
    return {
      unsubscribe: () => {
        if (this.restoreHandler === handler) this.restoreHandler = undefined;
      },
    };
  }
}

/** A worker thread's end of the checkpoint protocol: the follower's link, over its port to the main thread. */
export class ThreadCheckpointLink implements FollowerLink {
  private downHandlers: Array<(message: DownMessage) => void> = [];
  private readonly requests = new Map<number, { resolve: (value: unknown) => void; cancel: () => void }>();
  private nextRequestId = 0;

  constructor(
    private readonly post: PostEnvelope,
    private readonly clock: Clock,
  ) {}

  /** An envelope arrived from the main thread. */
  receive(message: CheckpointEnvelope): void {
    if (message.kind === "down") {
      const value = decodeValue<DownMessage>(message.body);
      for (const handler of this.downHandlers) handler(value);
    } else if (message.kind === "reply") {
      const request = this.requests.get(message.requestId ?? -1);
      if (request === undefined) return; // timed out meanwhile
      this.requests.delete(message.requestId ?? -1);
      request.cancel();
      request.resolve(decodeValue<unknown>(message.body));
    }
  }

  publishUp(message: UpMessage): void {
    this.post(envelope("up", message));
  }

  subscribeDown(handler: (message: DownMessage) => void): LinkSubscription {
    this.downHandlers.push(handler);
    return {
      unsubscribe: () => {
        this.downHandlers = this.downHandlers.filter((h) => h !== handler);
      },
    };
  }

  requestRestore<T>(request: RestoreRequest, timeoutMs: number): Promise<T> {
    const requestId = this.nextRequestId++;
    return new Promise<T>((resolve, reject) => {
      const cancel = this.clock.schedule(timeoutMs, () => {
        this.requests.delete(requestId);
        reject(new Error(`no answer to a ${request.type} restore request within ${timeoutMs} ms`));
      });
      this.requests.set(requestId, { resolve: resolve as (value: unknown) => void, cancel });
      this.post(envelope("request", request, requestId));
    });
  }
}
