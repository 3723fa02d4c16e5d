import type { OperatorNode, RuntimeContext } from "@keyflow/functions-sdk";
import type { ChannelReader, ChannelWriter, InputGate } from "../channel/channel.js";
import { RecordWriter } from "../channel/record-writer.js";
import { BarrierAligner } from "../checkpoint/barrier-aligner.js";
import { InFlightRecorder } from "../checkpoint/in-flight-recorder.js";
import type { ShardCheckpointing } from "../checkpoint/shard-checkpointing.js";
import type { Barrier, RecordBatch } from "../element/stream-element.js";
import { END_OF_INPUT, type StreamElement } from "../element/stream-element.js";
import { Mailbox } from "../mailbox/mailbox.js";
import type { MailboxScheduler, Runnable } from "../mailbox/mailbox-scheduler.js";
import { isRecordPathFailure, UserFunctionError } from "../operator/errors.js";
import type { ResultCollector, StreamOperator } from "../operator/operator.js";
import type { ExecutionPlan, PlanEdge, PlanVertex } from "../plan/execution-plan.js";
import { keySelectorOfEdge } from "../plan/execution-plan.js";
import type { InFlightBatch } from "../state/snapshot.js";
import type { Clock } from "../time/clock.js";
import type { ProcessingTimeService } from "../time/processing-time-service.js";
import { WatermarkValve } from "../time/watermark-valve.js";
import { createOperator } from "./create-operator.js";
import { edgeSelector } from "./edge-selector.js";
import { ChainedTarget, OperatorOutput, type RecordTarget } from "./operator-output.js";
import { ShardSnapshots } from "./shard-snapshots.js";
import { ShardSource } from "./shard-source.js";

/**
 * The lifecycle of a shard:
 * - "created": wired, operators not yet open; elements that arrive wait in the mailbox.
 * - "opening": user functions' `open` running.
 * - "running": taking mailbox elements (or polling its source).
 * - "finishing": every input ended; operators emit what is pending, then end-of-input goes out.
 * - "finished": done; end-of-input sent on every output.
 * - "failed": an error stopped it; the host fails the job.
 * - "cancelled": stopped from outside.
 */
export type ShardState = "created" | "opening" | "running" | "finishing" | "finished" | "failed" | "cancelled";

export interface ShardOptions {
  readonly plan: ExecutionPlan;
  readonly vertex: PlanVertex;
  readonly index: number;
  /** This shard's own operator nodes (from its own build of the job), by node id, so functions are per shard. */
  readonly nodes: readonly OperatorNode[];
  readonly scheduler: MailboxScheduler;
  readonly clock: Clock;
  readonly results: ResultCollector;
  readonly batchSize: number;
  readonly bufferTimeoutMs: number;
  /** Taking part in checkpoints; undefined when the job takes none (barriers then only flow). */
  readonly checkpointing?: ShardCheckpointing | undefined;
  /** Where operators register work for the end of the job (see OperatorContext.onJobFinished). */
  readonly onJobFinished?: ((action: () => void) => void) | undefined;
  /** Objects shared by the operators of this thread (see OperatorContext.threadShared). */
  readonly threadShared?: Map<string, unknown> | undefined;
  readonly onFinished: (shard: Shard) => void;
  readonly onFailed: (shard: Shard, error: Error) => void;
}

const ELEMENTS_PER_SLICE = 8;
const POLLS_PER_SLICE = 4;

/**
 * The actor of the runtime: one parallel instance of a chain of operators. It owns a mailbox fed
 * by its input channels, runs one element at a time to completion through its chain, and writes
 * to its output channels. Everything happens on one thread, driven by the thread's scheduler.
 */
export class Shard implements Runnable, InputGate {
  scheduled = false;
  state: ShardState = "created";
  readonly name: string;
  private readonly mailbox = new Mailbox();
  private readers: ChannelReader[] = [];
  private inputIndexOf: number[] = [];
  private writers: RecordWriter[] = [];
  private readonly operators: StreamOperator[] = [];
  private headOperator: StreamOperator | undefined;
  private valve: WatermarkValve | undefined;
  private endedChannels = 0;
  private aligner: BarrierAligner | undefined;
  /** Elements of channels blocked by barrier alignment, in arrival order: [channel, element, …]. */
  private held: Array<number | StreamElement> = [];
  /** Held elements being fed again after an alignment, before the mailbox. */
  private replay: Array<number | StreamElement> = [];
  private replayAt = 0;
  /** In-flight data of unaligned checkpoints; undefined for a shard without inputs or checkpoints. */
  private inFlight: InFlightRecorder | undefined;
  /** Restored in-flight records (of an unaligned checkpoint), processed before any input. */
  private recovered: readonly InFlightBatch[] = [];
  private recoveredAt = 0;
  /** Takes, completes and reports the chain's snapshots; undefined without checkpoints. */
  private readonly snapshots: ShardSnapshots | undefined;
  /** The reader of a source shard, with its watermarks. */
  private source: ShardSource | undefined;
  private waitingForSource = false;
  private lastFlush = 0;
  /** A failure while the shard was wired (see `setUp`), reported when it starts. */
  private setupFailure: Error | undefined;
  private closing: Promise<void> | undefined;
  /** An operator of the chain keeps mails running while the shard finishes (the functions dispatcher). */
  private mailsWhileFinishing = false;
  /** Processing-time callbacks, run as mails on this shard's thread. */
  readonly processingTime: ProcessingTimeService = {
    now: () => this.options.clock.now(),
    registerTimer: (timestamp, callback) => {
      let cancelled = false;
      const cancelClock = this.options.clock.schedule(timestamp - this.options.clock.now(), () => {
        if (cancelled || this.isDone()) return;
        this.mailbox.putMail(() => {
          if (!cancelled) callback(timestamp);
        });
        if (this.runsMails()) this.options.scheduler.wake(this);
      });
      return () => {
        cancelled = true;
        cancelClock();
      };
    },
  };

  constructor(private readonly options: ShardOptions) {
    this.name = `${options.vertex.name}#${options.index}`;
    const checkpointing = options.checkpointing;
    this.snapshots =
      checkpointing === undefined
        ? undefined
        : new ShardSnapshots({
            name: this.name,
            plan: options.plan,
            vertex: options.vertex,
            index: options.index,
            nodes: options.nodes,
            checkpointing,
            operators: this.operators,
            source: () => this.source,
          });
  }

  get vertex(): PlanVertex {
    return this.options.vertex;
  }
  get index(): number {
    return this.options.index;
  }

  /**
   * Wires the shard: `inputs` in gate order (the plan's inputsOf), `outputs` per out edge in slot order.
   * Builds the operator chain; nothing runs until `start`.
   */
  attach(inputs: ChannelReader[], outputs: ChannelWriter[][]): void {
    const { plan, vertex, index } = this.options;
    const planInputs = plan.inputsOf[vertex.id]?.[index] ?? [];
    this.readers = inputs;
    this.inputIndexOf = planInputs.map((channel) => (plan.edges[channel.edge] as PlanEdge).inputIndex);
    this.valve = new WatermarkValve(inputs.length);
    this.aligner = new BarrierAligner(inputs.length);
    if (this.options.checkpointing !== undefined && inputs.length > 0)
      this.inFlight = new InFlightRecorder(inputs.length);
    this.writers = vertex.outEdges.map(
      (edge, slot) =>
        new RecordWriter(
          outputs[slot] ?? [],
          edgeSelector({
            edge,
            target: this.options.plan.vertices[edge.targetVertex] as PlanVertex,
            targetName: (this.options.nodes[edge.targetNode] as OperatorNode).name,
            channels: outputs[slot]?.length ?? 0,
            shardIndex: this.options.index,
          }),
          this.options.batchSize,
        ),
    );

    // Build operators from the tail of the chain back to the head, so each output's targets exist.
    const operatorOf = new Map<number, StreamOperator>();
    const ordered = [...vertex.operators].reverse();
    for (const planNode of ordered) {
      const node = this.options.nodes[planNode.id] as OperatorNode;
      const main: RecordTarget[] = [];
      const side = new Map<string, RecordTarget[]>();
      for (const consumer of vertex.chained.get(node.id) ?? [])
        main.push(new ChainedTarget(operatorOf.get(consumer.id) as StreamOperator));
      vertex.outEdges.forEach((edge, slot) => {
        if (edge.sourceNode !== node.id) return;
        const writer = this.writers[slot] as RecordWriter;
        if (edge.sideOutput === undefined) main.push(writer);
        else side.set(edge.sideOutput, [...(side.get(edge.sideOutput) ?? []), writer]);
      });
      const output = new OperatorOutput(main, side);
      const runtime = this.runtimeContext(node);
      if (node.spec.kind === "source") {
        const source = node.spec.source;
        const restoredSplits = this.options.checkpointing?.restoredSplits(node.uid, index, vertex.parallelism);
        const reader = this.setUp(node, "(create reader)", () =>
          source.createReader({
            operatorName: node.name,
            shardIndex: index,
            parallelism: vertex.parallelism,
            now: () => this.options.clock.now(),
            sleep: (ms) => this.options.clock.sleep(ms),
            restoredSplits,
          }),
        );
        if (reader !== undefined) {
          this.source = new ShardSource({
            node,
            reader,
            output,
            processingTime: this.processingTime,
            autoWatermarkIntervalMs: plan.autoWatermarkIntervalMs,
            shardName: this.name,
          });
        }
        continue;
      }
      const keySelectors = [0, 1].map((input) => {
        const edge = vertex.inEdges.find((e) => e.targetNode === node.id && e.inputIndex === input);
        return edge === undefined ? undefined : (keySelectorOfEdge(edge) as ((value: unknown) => unknown) | undefined);
      });
      const operator = this.setUp(node, "(create)", () =>
        createOperator({
          node,
          runtime,
          clock: this.options.clock,
          processingTime: this.processingTime,
          autoWatermarkIntervalMs: plan.autoWatermarkIntervalMs,
          output,
          keySelectors,
          results: this.options.results,
          checkpointed: this.options.checkpointing !== undefined,
          onJobFinished: this.options.onJobFinished,
          mail: (action) => {
            this.mailbox.putMail(action);
            if (this.runsMails()) this.options.scheduler.wake(this);
          },
          threadShared: this.options.threadShared,
        }),
      );
      if (operator === undefined) continue;
      if (operator.runsMailsWhileFinishing === true) this.mailsWhileFinishing = true;
      operatorOf.set(node.id, operator);
      this.operators.unshift(operator);
    }
    this.headOperator = operatorOf.get(vertex.head.id);
  }

  /**
   * Runs user code that builds part of the shard (a source's `createReader`, a sink's
   * `createWriter`, a function object the operator cannot use). A failure is kept, named like a
   * record's failure, and fails the shard when it starts, as on every thread.
   */
  private setUp<T>(node: OperatorNode, what: string, build: () => T): T | undefined {
    try {
      return build();
    } catch (error) {
      this.setupFailure ??= isRecordPathFailure(error)
        ? error
        : UserFunctionError.of(node.name, `${node.name}#${this.options.index}`, what, error);
      return undefined;
    }
  }

  private runtimeContext(node: OperatorNode): RuntimeContext {
    const { plan, vertex, index } = this.options;
    return {
      jobName: plan.jobName,
      operatorName: node.name,
      operatorUid: node.uid,
      shardIndex: index,
      parallelism: vertex.parallelism,
      maxParallelism: plan.parallelismOf.get(node.id)?.maxParallelism ?? 128,
    };
  }

  /** Opens the operators (tail first, as Flink does), then starts taking elements. */
  async start(): Promise<void> {
    this.state = "opening";
    if (this.setupFailure !== undefined) {
      this.fail(this.setupFailure);
      return;
    }
    try {
      if (this.snapshots !== undefined) this.recovered = await this.snapshots.restore(this.inFlight !== undefined);
      for (let i = this.operators.length - 1; i >= 0; i--) await (this.operators[i] as StreamOperator).open();
    } catch (error) {
      this.fail(error);
      return;
    }
    if (this.state !== "opening") return;
    this.state = "running";
    this.lastFlush = this.options.clock.now();
    this.source?.start();
    if (this.readers.length === 0 && this.source === undefined) {
      void this.finishShard();
      return;
    }
    this.options.scheduler.wake(this);
  }

  deliver(inputChannel: number, element: StreamElement): void {
    this.mailbox.put(inputChannel, element);
    if (element.kind === "barrier" && element.unaligned === true) {
      // Flink's priority event: a mail runs before the elements queued ahead of the barrier.
      this.mailbox.putMail(() => this.unalignedBarrierArrived(inputChannel, element));
    }
    if (this.state === "running") this.options.scheduler.wake(this);
  }

  runSlice(): boolean {
    if (!this.runsMails()) return false;
    try {
      if (this.mailbox.hasMail()) {
        for (const mail of this.mailbox.takeMails()) {
          mail();
          if (!this.runsMails()) return false;
        }
      }
      return this.source === undefined ? this.processMailbox() : this.pollSource(this.source);
    } catch (error) {
      this.fail(error);
      return false;
    }
  }

  private processMailbox(): boolean {
    for (let n = 0; n < ELEMENTS_PER_SLICE; n++) {
      // A mail put by the last element (a processing-time timer that came due) runs before the
      // next element, as in Flink's mailbox: a window due before the end of input fires before it.
      if (n > 0 && this.mailbox.hasMail()) return true;
      if (this.recoveredAt < this.recovered.length) {
        if (!this.awaitWritable()) return false;
        this.processRecovered();
        if (this.state !== "running") return false;
        continue;
      }
      const replaying = this.replayAt < this.replay.length;
      if (!replaying && this.mailbox.isEmpty()) {
        this.flushOutputs();
        return false;
      }
      if (!this.awaitWritable()) return false;
      let channel: number;
      let element: StreamElement;
      if (replaying) {
        channel = this.replay[this.replayAt++] as number;
        element = this.replay[this.replayAt++] as StreamElement;
        if (this.replayAt === this.replay.length) {
          this.replay = [];
          this.replayAt = 0;
        }
      } else {
        channel = this.mailbox.peekChannel();
        element = this.mailbox.take();
      }
      if ((this.aligner as BarrierAligner).isBlocked(channel)) {
        // Aligning a checkpoint: this channel already delivered its barrier; its elements wait.
        this.held.push(channel, element);
        n--;
        continue;
      }
      if (element.kind === "records" && this.inFlight?.recording === true) {
        this.inFlight.capture(channel, this.inputIndexOf[channel] as number, element);
      }
      this.process(channel, element);
      if (this.state !== "running") return false;
    }
    this.flushOnTimeout();
    return this.recoveredAt < this.recovered.length || this.replayAt < this.replay.length || !this.mailbox.isEmpty();
  }

  /** Processes the next restored in-flight batch; its credit was returned in the run that took it. */
  private processRecovered(): void {
    const batch = this.recovered[this.recoveredAt++] as InFlightBatch;
    if (this.recoveredAt === this.recovered.length) {
      this.recovered = [];
      this.recoveredAt = 0;
    }
    const head = this.headOperator as StreamOperator;
    const { input, values, timestamps } = batch;
    for (let i = 0; i < values.length; i++) head.processRecord(values[i], timestamps?.[i] ?? Number.NaN, input);
  }

  private pollSource(source: ShardSource): boolean {
    if (this.waitingForSource) return false;
    for (let n = 0; n < POLLS_PER_SLICE; n++) {
      if (!this.awaitWritable()) return false;
      const result = source.poll(this.options.batchSize);
      if (result === "more") continue;
      if (result === "end") {
        source.ended();
        void this.finishShard();
        return false;
      }
      this.flushOutputs();
      this.waitingForSource = true;
      result.then(
        () => {
          this.waitingForSource = false;
          if (this.state === "running") this.options.scheduler.wake(this);
        },
        (error: unknown) => this.fail(source.failure(error)),
      );
      return false;
    }
    this.flushOnTimeout();
    return true;
  }

  private process(channel: number, element: StreamElement): void {
    switch (element.kind) {
      case "records": {
        const head = this.headOperator as StreamOperator;
        const input = this.inputIndexOf[channel] as number;
        const { values, timestamps } = element;
        if (head.processBatch !== undefined) head.processBatch(values, timestamps, input);
        else if (timestamps === undefined) {
          for (let i = 0; i < values.length; i++) head.processRecord(values[i], Number.NaN, input);
        } else {
          for (let i = 0; i < values.length; i++) head.processRecord(values[i], timestamps[i] as number, input);
        }
        (this.readers[channel] as ChannelReader).release();
        return;
      }
      case "watermark": {
        const advanced = (this.valve as WatermarkValve).update(channel, element.timestamp);
        if (advanced !== undefined) (this.headOperator as StreamOperator).processWatermark(advanced);
        return;
      }
      case "status": {
        const valve = this.valve as WatermarkValve;
        const advanced = valve.setIdle(channel, element.idle);
        if (advanced !== undefined) (this.headOperator as StreamOperator).processWatermark(advanced);
        this.forwardStatusChange(valve);
        return;
      }
      case "barrier": {
        if (element.unaligned === true) {
          this.onUnalignedBarrier(channel, element);
          return;
        }
        const result = (this.aligner as BarrierAligner).onBarrier(channel, element.checkpointId);
        if (result === "aligned") this.aligned(element);
        else if (typeof result === "object") {
          this.options.checkpointing?.onAbandoned(result.abandoned, this.name);
          this.resumeHeld();
        }
        return;
      }
      case "end": {
        this.endedChannels++;
        if (this.inFlight !== undefined) this.snapshots?.reportRecorded(this.inFlight.onEnd(channel));
        const aligning = (this.aligner as BarrierAligner).aligning;
        if ((this.aligner as BarrierAligner).onEnd(channel) === "aligned" && aligning !== undefined) {
          this.aligned({ kind: "barrier", checkpointId: aligning, timestamp: this.options.clock.now() });
        }
        const valve = this.valve as WatermarkValve;
        const advanced = valve.end(channel);
        if (advanced !== undefined) (this.headOperator as StreamOperator).processWatermark(advanced);
        if (this.endedChannels < this.readers.length) this.forwardStatusChange(valve);
        if (this.endedChannels === this.readers.length) void this.finishShard();
        return;
      }
    }
  }

  /**
   * Starts checkpoint `checkpointId` at this source shard: between two polls, records the
   * reader's split positions and the chain's state, then sends the barrier into every output
   * behind the records before it. Runs as a mail, on the shard's thread.
   */
  triggerCheckpoint(checkpointId: number, timestamp: number, savepoint: boolean, unaligned = false): void {
    if (this.source === undefined) throw new Error(`${this.name} is not a source shard`);
    this.mailbox.putMail(() => {
      if (unaligned && !savepoint) {
        // A source has no inputs, so nothing in flight: snapshot and send the barrier ahead.
        this.snapshots?.take(checkpointId, false);
        for (const writer of this.writers) {
          writer.broadcastPriority({ kind: "barrier", checkpointId, timestamp, unaligned: true });
        }
        return;
      }
      const barrier: Barrier = savepoint
        ? { kind: "barrier", checkpointId, timestamp, savepoint: true }
        : { kind: "barrier", checkpointId, timestamp };
      this.aligned(barrier);
    });
    if (this.state === "running") this.options.scheduler.wake(this);
  }

  /** Every input delivered the barrier (or this is a source): snapshot, forward it, resume held channels. */
  private aligned(barrier: Barrier): void {
    this.snapshots?.take(barrier.checkpointId, barrier.savepoint === true);
    for (const writer of this.writers) writer.broadcastElement(barrier);
    this.resumeHeld();
  }

  /**
   * The first barrier of unaligned checkpoint n to reach this shard, on any channel (a mail, ahead
   * of the elements queued before it): snapshot at once, send the barrier on ahead of the outputs'
   * queued batches, and record what each channel still delivers before its own barrier n.
   */
  private startUnaligned(barrier: Barrier): void {
    const recorder = this.inFlight;
    const shardSnapshots = this.snapshots;
    if (recorder === undefined || shardSnapshots === undefined || !recorder.isNew(barrier.checkpointId)) return;
    const snapshots = shardSnapshots.snapshots(barrier.checkpointId, false);
    for (const writer of this.writers) {
      writer.broadcastPriority({
        kind: "barrier",
        checkpointId: barrier.checkpointId,
        timestamp: barrier.timestamp,
        unaligned: true,
      });
    }
    // Restored records not yet replayed are in no upstream snapshot: they are in flight again.
    const pending = this.recovered.slice(this.recoveredAt);
    const done = recorder.start(barrier.checkpointId, snapshots, pending);
    if (done !== undefined) shardSnapshots.reportRecorded([done]);
  }

  /**
   * Barrier n of an unaligned checkpoint arrived on `channel` (a mail, before anything queued is
   * taken): start n if it is the first, and store the channel's batches queued ahead of the
   * barrier as in flight, so the channel is done for n now rather than once the queue is processed.
   */
  private unalignedBarrierArrived(channel: number, barrier: Barrier): void {
    const recorder = this.inFlight;
    if (recorder === undefined) return;
    if (recorder.isNew(barrier.checkpointId)) this.startUnaligned(barrier);
    if (!recorder.isOpen(channel)) return;
    this.snapshots?.reportRecorded(
      recorder.onBarrier(channel, barrier.checkpointId, this.queuedBefore(channel, barrier)),
    );
  }

  /** The record batches of `channel` not processed yet that came before `barrier`, in order. */
  private queuedBefore(channel: number, barrier: Barrier): Array<{ input: number; batch: RecordBatch }> {
    const input = this.inputIndexOf[channel] as number;
    const queued: Array<{ input: number; batch: RecordBatch }> = [];
    let reached = false;
    const visit = (c: number, element: StreamElement): boolean => {
      if (c !== channel) return true;
      if (element === barrier) reached = true;
      else if (element.kind === "records") queued.push({ input, batch: element });
      return !reached;
    };
    // A channel's unprocessed elements, oldest first: held by an alignment, fed again, in the mailbox.
    for (let i = 0; i < this.held.length && !reached; i += 2)
      visit(this.held[i] as number, this.held[i + 1] as StreamElement);
    for (let i = this.replayAt; i < this.replay.length && !reached; i += 2) {
      visit(this.replay[i] as number, this.replay[i + 1] as StreamElement);
    }
    if (!reached) this.mailbox.forEachQueued(visit);
    return queued;
  }

  /** Barrier n of an unaligned checkpoint taken in order from `channel`: its mail already closed the channel for n. */
  private onUnalignedBarrier(channel: number, barrier: Barrier): void {
    const recorder = this.inFlight;
    if (recorder === undefined) return;
    // Only if the mail has not run (it runs first): then nothing of the channel is queued ahead.
    if (recorder.isNew(barrier.checkpointId)) this.startUnaligned(barrier);
    this.snapshots?.reportRecorded(recorder.onBarrier(channel, barrier.checkpointId, []));
  }

  /**
   * A checkpoint taken after this shard finished: its final state goes in (a finished source has
   * no splits left; operators' state is what it was at the end). Every shard of a checkpoint
   * reports, so a restore finds the state of shards that had already finished (as Flink's
   * checkpoints after tasks finished, FLIP-147).
   */
  snapshotFinished(checkpointId: number, savepoint: boolean, unaligned = false): void {
    if (this.state !== "finished") throw new Error(`${this.name} has not finished`);
    this.snapshots?.take(checkpointId, savepoint, unaligned && !savepoint && this.inFlight !== undefined);
  }

  private resumeHeld(): void {
    if (this.held.length === 0) return;
    // Held elements came before anything still in the mailbox from their channels: feed them first.
    this.replay = this.replayAt < this.replay.length ? [...this.held, ...this.replay.slice(this.replayAt)] : this.held;
    this.replayAt = 0;
    this.held = [];
    if (this.state === "running") this.options.scheduler.wake(this);
  }

  /** Checkpoint `checkpointId` completed (or was aborted): operators commit (or roll back) what it covers. */
  notifyCheckpoint(checkpointId: number, completed: boolean): Promise<void> {
    if (this.state === "finished") {
      // No mailbox runs any more: the operators (closed, their state kept) hear it directly.
      return Promise.all(
        this.operators.map((operator) =>
          completed
            ? operator.notifyCheckpointComplete?.(checkpointId)
            : operator.notifyCheckpointAborted?.(checkpointId),
        ),
      ).then(() => {});
    }
    if (this.isDone()) return Promise.resolve();
    return new Promise((resolve) => {
      this.mailbox.putMail(() => {
        const pending: Array<Promise<void>> = [];
        for (const operator of this.operators) {
          const done = completed
            ? operator.notifyCheckpointComplete?.(checkpointId)
            : operator.notifyCheckpointAborted?.(checkpointId);
          if (done instanceof Promise) pending.push(done.catch((error: unknown) => this.fail(error)));
        }
        void Promise.all(pending).then(() => resolve());
      });
      if (this.state === "running") this.options.scheduler.wake(this);
    });
  }

  /**
   * Runs `read` with this shard's operators between two elements and resolves with what it
   * returns: as a mail while the shard runs (Flink's mailbox: no element is half processed, so a
   * key's state is never seen halfway through a handler's update), at once once it finished
   * (operators closed, state kept). For reads only (queryable state): `read` must not change
   * state. Rejects after the shard failed or was cancelled, or while it finishes without mails.
   * A starting shard (its state not yet restored) runs the mail once it
   * runs; a mail dropped by a failure never settles: askers time out.
   */
  readBetweenElements<T>(read: (operators: readonly StreamOperator[]) => T): Promise<T> {
    if (this.state === "finished") return Promise.resolve().then(() => read(this.operators));
    const starting = this.state === "created" || this.state === "opening";
    if (!starting && !this.runsMails()) return Promise.reject(new Error(`shard ${this.name} is ${this.state}`));
    return new Promise((resolve, reject) => {
      this.mailbox.putMail(() => {
        try {
          resolve(read(this.operators));
        } catch (error) {
          reject(error);
        }
      });
      // A starting shard runs its mails once it runs (after its state was restored).
      if (!starting) this.options.scheduler.wake(this);
    });
  }

  /** True while this source shard runs and can take a barrier. */
  get canTriggerCheckpoint(): boolean {
    return this.source !== undefined && this.state === "running";
  }

  get isSource(): boolean {
    return this.options.vertex.inEdges.length === 0;
  }

  /** Tells the chain when all live inputs went idle, or one became active again. */
  private forwardStatusChange(valve: WatermarkValve): void {
    const change = valve.statusChange();
    if (change !== undefined) (this.headOperator as StreamOperator).processWatermarkStatus(change === "idle");
  }

  /** Whether mails run now: while running, and while finishing for a chain that asked (see StreamOperator.runsMailsWhileFinishing). */
  private runsMails(): boolean {
    return this.state === "running" || (this.state === "finishing" && this.mailsWhileFinishing);
  }

  private isDone(): boolean {
    return this.state === "finished" || this.state === "failed" || this.state === "cancelled";
  }

  /** True when every output can take a batch; otherwise arranges to be woken when it can. */
  private awaitWritable(): boolean {
    for (const writer of this.writers) {
      const blocked = writer.blockedChannel();
      if (blocked !== undefined) {
        blocked.onWritable(() => {
          if (this.state === "running") this.options.scheduler.wake(this);
        });
        return false;
      }
    }
    return true;
  }

  private flushOutputs(): void {
    for (const writer of this.writers) writer.flush();
    this.lastFlush = this.options.clock.now();
  }

  private flushOnTimeout(): void {
    if (this.options.clock.now() - this.lastFlush >= this.options.bufferTimeoutMs) this.flushOutputs();
  }

  private async finishShard(): Promise<void> {
    if (this.state !== "running") return;
    this.state = "finishing";
    try {
      for (const operator of this.operators) await operator.finish();
      for (const writer of this.writers) writer.broadcastElement(END_OF_INPUT);
      await this.closeAll();
    } catch (error) {
      this.fail(error);
      return;
    }
    if (this.state !== "finishing") return;
    this.state = "finished";
    this.options.onFinished(this);
  }

  /**
   * Closes the source reader and every operator once (a failure while finishing and the `fail`
   * that follows share one close), even when one fails to close; rethrows the first failure.
   */
  private closeAll(): Promise<void> {
    this.closing ??= this.closeEach();
    return this.closing;
  }

  private async closeEach(): Promise<void> {
    let failure: unknown;
    try {
      await this.source?.close();
    } catch (error) {
      failure = UserFunctionError.of(this.options.vertex.head.name, this.name, "(source close)", error);
    }
    for (const operator of this.operators) {
      try {
        await operator.close();
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure !== undefined) throw failure;
  }

  /** Stops the shard with an error; the host fails the job. */
  fail(error: unknown): void {
    if (this.state === "failed" || this.state === "cancelled" || this.state === "finished") return;
    this.state = "failed";
    this.mailbox.clear();
    this.inFlight?.clear();
    this.snapshots?.drop();
    void this.closeAll().catch(() => {});
    this.options.onFailed(this, error instanceof Error ? error : new Error(String(error)));
  }

  /** Stops the shard from outside; pending elements are dropped with the job. */
  cancel(): void {
    if (this.state === "finished" || this.state === "failed" || this.state === "cancelled") return;
    this.state = "cancelled";
    this.mailbox.clear();
    this.inFlight?.clear();
    this.snapshots?.drop();
    void this.closeAll().catch(() => {});
  }
}
