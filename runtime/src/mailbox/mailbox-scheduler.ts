/** Something with work in a mailbox: a shard. */
export interface Runnable {
  /** @internal Set while queued in a scheduler. */
  scheduled: boolean;
  /** Runs a bounded amount of work; returns true when more work is ready right now. */
  runSlice(): boolean;
}

const SLICE_BUDGET_MS = 4;

/**
 * Runs the shards of one thread cooperatively. A shard with work is queued once; each tick runs
 * queued shards one slice at a time for a few milliseconds, then yields to the event loop so
 * messages from other threads, NATS and timers get in. `afterTick` hooks run at the end of a
 * tick (credit messages are batched there).
 */
export class MailboxScheduler {
  private queue: Runnable[] = [];
  private head = 0;
  private tickPending = false;
  private readonly afterTickHooks: Array<() => void> = [];
  private stopped = false;
  /** Called when a slice throws; the shard decides what failed. */
  onError: (runnable: Runnable, error: unknown) => void = (_runnable, error) => {
    throw error;
  };

  wake(runnable: Runnable): void {
    if (runnable.scheduled || this.stopped) return;
    runnable.scheduled = true;
    this.queue.push(runnable);
    this.ensureTick();
  }

  afterTick(hook: () => void): void {
    this.afterTickHooks.push(hook);
  }

  stop(): void {
    this.stopped = true;
    this.queue = [];
    this.head = 0;
  }

  private ensureTick(): void {
    if (this.tickPending) return;
    this.tickPending = true;
    setImmediate(this.tick);
  }

  private readonly tick = (): void => {
    this.tickPending = false;
    const deadline = performance.now() + SLICE_BUDGET_MS;
    while (this.head < this.queue.length && !this.stopped) {
      const runnable = this.queue[this.head++] as Runnable;
      runnable.scheduled = false;
      let more = false;
      try {
        more = runnable.runSlice();
      } catch (error) {
        this.onError(runnable, error);
      }
      if (more) this.wake(runnable);
      if (performance.now() >= deadline) break;
    }
    if (this.head >= this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head > 256) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    for (const hook of this.afterTickHooks) hook();
    if (this.head < this.queue.length && !this.stopped) this.ensureTick();
  };
}
