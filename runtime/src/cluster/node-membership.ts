import { randomUUID } from "node:crypto";
import type { KeyflowError } from "@keyflow/functions-sdk";
import type { Clock } from "../time/clock.js";
import type { NatsLink } from "../transport/nats-link.js";
import type { SerializedError } from "../util/serialized-error.js";
import { DuplicateNodeError, PeerCancelledError, PeerFailedError, PeerLostError, PlanMismatchError } from "./errors.js";

/**
 * What a node of a static cluster tells the others:
 * - "running": its shards run (or wait for their inputs);
 * - "finished": its shards finished and every end-of-input it owed went out; it stays until
 *   every node said "finished", so a late failure elsewhere still fails it.
 */
export type NodeStatus = "running" | "finished";

/** Messages on `kf.<jobId>.control`, msgpack-encoded. `instance` tells two processes of one node id apart. */
export type ControlMessage =
  | {
      readonly type: "status";
      readonly node: number;
      readonly instance: string;
      readonly status: NodeStatus;
      readonly plan: string;
    }
  | { readonly type: "failed"; readonly node: number; readonly instance: string; readonly error: SerializedError }
  | { readonly type: "cancelled"; readonly node: number; readonly instance: string };

export interface NodeMembershipOptions {
  readonly link: NatsLink;
  readonly node: number;
  readonly nodes: number;
  /** A summary of this node's execution plan; a peer with another one fails the job. */
  readonly plan: string;
  readonly clock: Clock;
  /** Interval of status messages, in ms. */
  readonly heartbeatMs: number;
  /** Silence after which a running peer is presumed dead, in ms. */
  readonly peerTimeoutMs: number;
  /** Called once, with the first reason this node must stop because of a peer. */
  readonly onPeerFailure: (error: KeyflowError) => void;
}

interface Peer {
  instance: string;
  status: NodeStatus;
  lastSeen: number;
}

/**
 * A node's view of the other nodes of its static cluster, over the control subject: it publishes
 * its status every heartbeat and on change, and hears the others'. A peer that failed, cancelled,
 * went silent while running, claims our node id, or runs another plan stops this node through
 * `onPeerFailure`, so no node waits forever for a peer that will never send.
 * Thread: the node's main thread. Lifecycle: created -> started -> stopped.
 */
export class NodeMembership {
  private readonly instance = randomUUID();
  private readonly peers = new Map<number, Peer>();
  private status: NodeStatus = "running";
  private cancelTimer: (() => void) | undefined;
  private subscription: { unsubscribe(): void } | undefined;
  private stopped = false;
  private finishedWaiters: Array<() => void> = [];
  private joinedWaiters: Array<() => void> = [];

  constructor(private readonly options: NodeMembershipOptions) {}

  /** Subscribes to the control subject, then announces this node. */
  start(): void {
    const { link } = this.options;
    this.subscription = link.subscribeValues<ControlMessage>(link.subjects.control, (message) => this.hear(message));
    this.announce();
    this.scheduleHeartbeat();
  }

  private scheduleHeartbeat(): void {
    this.cancelTimer = this.options.clock.schedule(this.options.heartbeatMs, () => {
      if (this.stopped) return;
      this.announce();
      this.checkSilence();
      this.scheduleHeartbeat();
    });
  }

  setStatus(status: NodeStatus): void {
    this.status = status;
    this.announce();
    this.notifyIfAllFinished();
  }

  /**
   * Resolves once every peer announced itself. Shards start only then: a failure is published
   * only after every node subscribed to the control subject, so no node can miss it and wait
   * forever for a peer that is gone.
   */
  allJoined(): Promise<void> {
    if (this.peers.size === this.options.nodes - 1) return Promise.resolve();
    return new Promise((resolve) => this.joinedWaiters.push(resolve));
  }

  /** The nodes that have not announced themselves yet. */
  missingPeers(): number[] {
    const missing: number[] = [];
    for (let node = 0; node < this.options.nodes; node++) {
      if (node !== this.options.node && !this.peers.has(node)) missing.push(node);
    }
    return missing;
  }

  /** Resolves once this node and every peer said "finished". */
  allFinished(): Promise<void> {
    if (this.isAllFinished()) return Promise.resolve();
    return new Promise((resolve) => this.finishedWaiters.push(resolve));
  }

  /** Tells the other nodes this one failed with `error`. */
  publishFailure(error: SerializedError): void {
    const { link, node } = this.options;
    link.publishValue(link.subjects.control, { type: "failed", node, instance: this.instance, error });
  }

  /** Tells the other nodes this one was cancelled, which cancels the job. */
  publishCancelled(): void {
    const { link, node } = this.options;
    link.publishValue(link.subjects.control, { type: "cancelled", node, instance: this.instance });
  }

  stop(): void {
    this.stopped = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.subscription?.unsubscribe();
    this.finishedWaiters = [];
    this.joinedWaiters = [];
  }

  private announce(): void {
    const { link, node, plan } = this.options;
    link.publishValue(link.subjects.control, {
      type: "status",
      node,
      instance: this.instance,
      status: this.status,
      plan,
    } satisfies ControlMessage);
  }

  private hear(message: ControlMessage): void {
    if (this.stopped || message.instance === this.instance) return;
    if (message.node === this.options.node) {
      this.fail(new DuplicateNodeError(message.node));
      return;
    }
    switch (message.type) {
      case "failed":
        this.fail(new PeerFailedError(message.node, message.error));
        return;
      case "cancelled":
        this.fail(new PeerCancelledError(message.node));
        return;
      case "status": {
        if (message.plan !== this.options.plan) {
          this.fail(new PlanMismatchError(message.node, this.options.plan, message.plan));
          return;
        }
        const peer = this.peers.get(message.node);
        if (peer !== undefined && peer.instance !== message.instance) {
          this.fail(new DuplicateNodeError(message.node));
          return;
        }
        this.peers.set(message.node, {
          instance: message.instance,
          status: message.status,
          lastSeen: this.options.clock.now(),
        });
        // A newcomer missed our earlier announcements: answer now rather than at the next heartbeat.
        if (peer === undefined) this.announce();
        if (this.peers.size === this.options.nodes - 1 && this.joinedWaiters.length > 0) {
          const waiters = this.joinedWaiters;
          this.joinedWaiters = [];
          for (const waiter of waiters) waiter();
        }
        this.notifyIfAllFinished();
        return;
      }
    }
  }

  private checkSilence(): void {
    const now = this.options.clock.now();
    for (const [node, peer] of this.peers) {
      // A finished peer may exit at any time; only a running one owes us its data.
      if (peer.status !== "running") continue;
      const silent = now - peer.lastSeen;
      if (silent > this.options.peerTimeoutMs) {
        this.fail(new PeerLostError(node, silent));
        return;
      }
    }
  }

  private isAllFinished(): boolean {
    if (this.status !== "finished") return false;
    for (let node = 0; node < this.options.nodes; node++) {
      if (node === this.options.node) continue;
      if (this.peers.get(node)?.status !== "finished") return false;
    }
    return true;
  }

  private notifyIfAllFinished(): void {
    if (this.finishedWaiters.length === 0 || !this.isAllFinished()) return;
    const waiters = this.finishedWaiters;
    this.finishedWaiters = [];
    for (const waiter of waiters) waiter();
  }

  private fail(error: KeyflowError): void {
    if (this.stopped) return;
    this.options.onPeerFailure(error);
  }
}
