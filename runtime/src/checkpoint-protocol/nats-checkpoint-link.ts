import type { NatsLink } from "../transport/nats-link.js";
import type { CheckpointLink, LinkSubscription } from "./checkpoint-link.js";
import type { DownMessage, RestoreRequest, UpMessage } from "./checkpoint-messages.js";

/**
 * The checkpoint protocol of a static cluster, on the job's `checkpoint.down`, `checkpoint.up`
 * and `checkpoint.restore` subjects. NATS keeps the order of one connection's messages to one
 * subscription, so a node's entries arrive before its report.
 */
export class NatsCheckpointLink implements CheckpointLink {
  constructor(private readonly link: NatsLink) {}

  publishDown(message: DownMessage): void {
    this.link.publishValue(this.link.subjects.checkpointDown, message);
  }

  subscribeUp(handler: (message: UpMessage) => void): LinkSubscription {
    return this.link.subscribeValues<UpMessage>(this.link.subjects.checkpointUp, handler);
  }

  serveRestore(handler: (request: RestoreRequest) => unknown): LinkSubscription {
    return this.link.serve(this.link.subjects.checkpointRestore, (request) => handler(request as RestoreRequest));
  }

  publishUp(message: UpMessage): void {
    this.link.publishValue(this.link.subjects.checkpointUp, message);
  }

  subscribeDown(handler: (message: DownMessage) => void): LinkSubscription {
    return this.link.subscribeValues<DownMessage>(this.link.subjects.checkpointDown, handler);
  }

  requestRestore<T>(request: RestoreRequest, timeoutMs: number): Promise<T> {
    return this.link.request<T>(this.link.subjects.checkpointRestore, request, timeoutMs);
  }
}
