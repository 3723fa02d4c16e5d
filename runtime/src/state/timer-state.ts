import type { Key } from "@keyflow/functions-sdk";
import { keyOfMapKey } from "../partition/canonical-key.js";
import { keyGroupOf } from "../partition/key-groups.js";
import type { KeyedTimerService } from "../time/keyed-timer-service.js";
import { type TimerSlot, timersOf } from "../time/timer-queue.js";
import { ABSENT, type Absent, type SnapshotMode } from "../util/change-tracker.js";
import type { KeyedPartSnapshot, KeyedStatePart } from "./keyed-state-part.js";
import { DELETED, type KeyedStateEntry } from "./snapshot.js";

/** How a timer's namespace goes into a snapshot and comes back: 0 for process functions, the window for window operators. */
export interface NamespaceCodec<N> {
  encode(namespace: N): unknown;
  decode(encoded: unknown): N;
}

/** Namespaces that are msgpack-encodable as they are (the 0 of keyed process functions). */
export const PLAIN_NAMESPACE: NamespaceCodec<number> = {
  encode: (namespace) => namespace,
  decode: (encoded) => encoded as number,
};

type Domain = "eventTime" | "processingTime";
const STATES: Readonly<Record<Domain, string>> = {
  eventTime: "__timers/event",
  processingTime: "__timers/processing",
};

/**
 * The timers of a KeyedTimerService as keyed state: the entries "__timers/event" and
 * "__timers/processing" hold, per key, that key's timers in registration order as
 * [namespace, timestamp] pairs. A key is one entry because the queue files timers by key and
 * tracks changes per key (a window operator's key has a timer per open window); a key whose
 * timers all fired or were deleted since the last checkpoint is DELETED. On restore the timers
 * are registered again, and the earliest processing-time timer is scheduled.
 */
export class TimerServiceState<N> implements KeyedStatePart {
  constructor(
    private readonly service: KeyedTimerService<N>,
    private readonly codec: NamespaceCodec<N>,
    private readonly maxParallelism: number,
  ) {}

  get hasBase(): boolean {
    return this.service.queue("eventTime").tracker.hasBase && this.service.queue("processingTime").tracker.hasBase;
  }

  snapshot(checkpointId: number, mode: SnapshotMode): KeyedPartSnapshot {
    const event = this.service.queue("eventTime").snapshot(checkpointId, mode);
    const processing = this.service.queue("processingTime").snapshot(checkpointId, mode);
    const entry =
      (state: string) =>
      (mapKey: unknown, slot: TimerSlot<N> | Absent): KeyedStateEntry => {
        if (slot === ABSENT) {
          return { keyGroup: keyGroupOf(keyOfMapKey(mapKey), this.maxParallelism), state, key: mapKey, value: DELETED };
        }
        const timers = timersOf(slot);
        const value = timers.map((timer) => [this.codec.encode(timer.namespace), timer.timestamp]);
        return { keyGroup: (timers[0] as { keyGroup: number }).keyGroup, state, key: mapKey, value };
      };
    return {
      entries: {
        *[Symbol.iterator]() {
          yield* event.entries(entry(STATES.eventTime));
          yield* processing.entries(entry(STATES.processingTime));
        },
      },
      release() {
        event.release();
        processing.release();
      },
    };
  }

  checkpointComplete(checkpointId: number): void {
    this.service.queue("eventTime").tracker.complete(checkpointId);
    this.service.queue("processingTime").tracker.complete(checkpointId);
  }

  owns(name: string): boolean {
    return name === STATES.eventTime || name === STATES.processingTime;
  }

  restoreEntry(entry: KeyedStateEntry): void {
    if (entry.value === DELETED) return; // nothing to register
    const domain: Domain = entry.state === STATES.eventTime ? "eventTime" : "processingTime";
    if (!Array.isArray(entry.value)) throw new TypeError("timers are restored from [namespace, timestamp] pairs");
    const key: Key = keyOfMapKey(entry.key);
    for (const pair of entry.value as unknown[]) {
      if (!Array.isArray(pair) || typeof pair[1] !== "number") {
        throw new TypeError("timers are restored from [namespace, timestamp] pairs");
      }
      this.service.restoreTimer(domain, key, entry.key, this.codec.decode(pair[0]), pair[1]);
    }
  }

  restored(): void {
    this.service.queue("eventTime").tracker.startFromBase();
    this.service.queue("processingTime").tracker.startFromBase();
    this.service.scheduleRestored();
  }
}
