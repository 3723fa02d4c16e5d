/**
 * A message inside a functions operator: to an address, from the function that sent it (absent
 * for ingress), or — with `cancel` — the cancellation of a delayed message that `to` scheduled,
 * sent by another address. Plain data: it crosses threads and nodes (msgpackr) on the feedback network.
 */
export interface Envelope {
  readonly to: { readonly type: string; readonly id: string };
  readonly from?: { readonly type: string; readonly id: string } | undefined;
  readonly message?: unknown;
  readonly cancel?: string;
  /** A timer of `to` (its timestamp), delivered to its function's `onTimer`. */
  readonly timer?: number;
}

/**
 * An entry of a shard's inbox: a message (or cancellation), or — a number — the marker of a
 * checkpoint, which its sender puts into every inbox right after its snapshot of that checkpoint.
 */
export type InboxEntry = Envelope | number;
