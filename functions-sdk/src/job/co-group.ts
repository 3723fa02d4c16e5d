import type { Collector } from "../function/collector.js";
import type { CoGroupFunction } from "../function/join-functions.js";
import type { RuntimeContext } from "../function/runtime-context.js";
import type { Key, KeySelector } from "../key.js";
import type { WindowAssigner } from "../window/assigner.js";
import type { Evictor } from "../window/evictor.js";
import type { Trigger } from "../window/trigger.js";
import type { Window } from "../window/window.js";
import type { ProcessWindowContext, ProcessWindowFunction } from "../window/window-functions.js";
// data-stream.ts imports this file back; OperatorStream is only used when a job is built, never
// while the modules load, so the cycle is safe in any import order.
import { type DataStream, OperatorStream } from "./data-stream.js";

/**
 * A record of either input of a window join or coGroup, tagged with its side, as both inputs
 * travel through one keyed window operator: `side` 0 is the left (first) stream, 1 the right.
 * Triggers and evictors of a join see records of this type.
 */
export type TaggedUnion<L, R> = { readonly side: 0; readonly value: L } | { readonly side: 1; readonly value: R };

/**
 * Two streams to be grouped per key and window: `left.coGroup(right).where(k1).equalTo(k2).window(assigner).apply(fn)`.
 * `fn` gets, for each window and key with at least one record on either side, all of that
 * window's left and right records of the key.
 */
export class CoGroupedStreams<L, R> {
  /** @internal */
  constructor(
    private readonly left: DataStream<L>,
    private readonly right: DataStream<R>,
  ) {}

  /** The key of left records. */
  where<K extends Key>(key: KeySelector<L, K>): CoGroupWhere<L, R, K> {
    return new CoGroupWhere<L, R, K>(this.left, this.right, key);
  }
}

export class CoGroupWhere<L, R, K extends Key> {
  /** @internal */
  constructor(
    private readonly left: DataStream<L>,
    private readonly right: DataStream<R>,
    private readonly leftKey: KeySelector<L, K>,
  ) {}

  /** The key of right records: the same type as the left key, since equal keys meet. */
  equalTo(key: KeySelector<R, K>): CoGroupEqualTo<L, R, K> {
    return new CoGroupEqualTo<L, R, K>(this.left, this.right, this.leftKey, key);
  }
}

export class CoGroupEqualTo<L, R, K extends Key> {
  /** @internal */
  constructor(
    private readonly left: DataStream<L>,
    private readonly right: DataStream<R>,
    private readonly leftKey: KeySelector<L, K>,
    private readonly rightKey: KeySelector<R, K>,
  ) {}

  /** The windows both sides' records are grouped in (one assigner for the union of both inputs). */
  window<W extends Window>(assigner: WindowAssigner<TaggedUnion<L, R>, W>): CoGroupWithWindow<L, R, K, W> {
    return new CoGroupWithWindow<L, R, K, W>(
      { left: this.left, right: this.right, leftKey: this.leftKey, rightKey: this.rightKey },
      assigner,
    );
  }
}

interface KeyedInputs<L, R, K extends Key> {
  readonly left: DataStream<L>;
  readonly right: DataStream<R>;
  readonly leftKey: KeySelector<L, K>;
  readonly rightKey: KeySelector<R, K>;
}

/** A coGroup with its windows: optionally set a trigger, an evictor and allowed lateness, then `apply`. */
export class CoGroupWithWindow<L, R, K extends Key, W extends Window> {
  private triggerFn: Trigger<TaggedUnion<L, R>, W> | undefined;
  private evictorFn: Evictor<TaggedUnion<L, R>, W> | undefined;
  private latenessMs = 0;

  /** @internal */
  constructor(
    private readonly inputs: KeyedInputs<L, R, K>,
    private readonly assigner: WindowAssigner<TaggedUnion<L, R>, W>,
  ) {}

  /** Replaces the assigner's default trigger. */
  trigger(trigger: Trigger<TaggedUnion<L, R>, W>): this {
    this.triggerFn = trigger;
    return this;
  }
  /** Removes records of either side from a window before or after the function runs. */
  evictor(evictor: Evictor<TaggedUnion<L, R>, W>): this {
    this.evictorFn = evictor;
    return this;
  }
  /** Keeps windows this many ms of event time past their end, as `WindowedStream.allowedLateness`. */
  allowedLateness(latenessMs: number): this {
    this.latenessMs = latenessMs;
    return this;
  }

  /** Adds the operators (named "WindowCoGroup"): `fn` runs per window and key when the window fires. */
  apply<O>(fn: CoGroupFunction<L, R, O>): OperatorStream<O> {
    return this.build(fn, "WindowCoGroup");
  }

  /**
   * As Flink builds it: tag each side's records, union the two, key the union by the side's key,
   * window it, and split each firing's records by side again for `fn`.
   * @internal
   */
  build<O>(fn: CoGroupFunction<L, R, O>, name: string): OperatorStream<O> {
    const { left, right, leftKey, rightKey } = this.inputs;
    const taggedLeft = tag(left, (value: L): TaggedUnion<L, R> => ({ side: 0, value }), `${name}: tag left`);
    const taggedRight = tag(right, (value: R): TaggedUnion<L, R> => ({ side: 1, value }), `${name}: tag right`);
    const windowed = taggedLeft
      .union(taggedRight)
      .keyBy((record) => (record.side === 0 ? leftKey(record.value) : rightKey(record.value)))
      .window(this.assigner);
    if (this.triggerFn !== undefined) windowed.trigger(this.triggerFn);
    if (this.evictorFn !== undefined) windowed.evictor(this.evictorFn);
    windowed.allowedLateness(this.latenessMs);
    return windowed.process(new CoGroupWindowFunction<L, R, O, K, W>(fn)).name(name);
  }
}

/** Tags one input, in as many shards as it has (so the tagger chains to it, as in Flink). */
function tag<T, U>(input: DataStream<T>, tagger: (value: T) => U, name: string): OperatorStream<U> {
  const tagged = input.map(tagger).name(name);
  if (input instanceof OperatorStream && input.node.parallelism !== undefined) {
    tagged.setParallelism(input.node.parallelism);
  }
  return tagged;
}

/** Splits a window's tagged records by side and hands both lists to the coGroup function. */
class CoGroupWindowFunction<L, R, O, K extends Key, W extends Window>
  implements ProcessWindowFunction<TaggedUnion<L, R>, O, K, W>
{
  private readonly call: (lefts: readonly L[], rights: readonly R[], out: Collector<O>) => void;

  constructor(private readonly fn: CoGroupFunction<L, R, O>) {
    this.call = typeof fn === "function" ? fn : (lefts, rights, out) => fn.coGroup(lefts, rights, out);
  }

  open(context: RuntimeContext): void | Promise<void> {
    if (typeof this.fn !== "function") return this.fn.open?.(context);
  }
  close(): void | Promise<void> {
    if (typeof this.fn !== "function") return this.fn.close?.();
  }

  process(
    _key: K,
    _ctx: ProcessWindowContext<W, Record<never, never>, Record<never, never>>,
    elements: readonly TaggedUnion<L, R>[],
    out: Collector<O>,
  ): void {
    const lefts: L[] = [];
    const rights: R[] = [];
    for (const element of elements) {
      if (element.side === 0) lefts.push(element.value);
      else rights.push(element.value);
    }
    this.call(lefts, rights, out);
  }
}
