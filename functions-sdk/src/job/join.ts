import type { Collector } from "../function/collector.js";
import type { FlatJoinFunction, JoinFunction, RichCoGroupFunction } from "../function/join-functions.js";
import type { RuntimeContext } from "../function/runtime-context.js";
import type { Key, KeySelector } from "../key.js";
import type { WindowAssigner } from "../window/assigner.js";
import type { Evictor } from "../window/evictor.js";
import type { Trigger } from "../window/trigger.js";
import type { Window } from "../window/window.js";
import { type CoGroupEqualTo, CoGroupedStreams, type CoGroupWithWindow, type TaggedUnion } from "./co-group.js";
import type { DataStream, OperatorStream } from "./data-stream.js";

/**
 * Two streams to be joined per key and window (an inner join):
 * `left.join(right).where(k1).equalTo(k2).window(assigner).apply((l, r) => ...)`. Every pair of a
 * left and a right record with the same key in the same window gives one call; a key with
 * records on one side only gives none. Built as a coGroup, as in Flink.
 */
export class JoinedStreams<L, R> {
  /** @internal */
  constructor(
    private readonly left: DataStream<L>,
    private readonly right: DataStream<R>,
  ) {}

  /** The key of left records. */
  where<K extends Key>(key: KeySelector<L, K>): JoinWhere<L, R, K> {
    return new JoinWhere<L, R, K>(this.left, this.right, key);
  }
}

export class JoinWhere<L, R, K extends Key> {
  /** @internal */
  constructor(
    private readonly left: DataStream<L>,
    private readonly right: DataStream<R>,
    private readonly leftKey: KeySelector<L, K>,
  ) {}

  /** The key of right records: the same type as the left key, since equal keys meet. */
  equalTo(key: KeySelector<R, K>): JoinEqualTo<L, R, K> {
    return new JoinEqualTo<L, R, K>(new CoGroupedStreams<L, R>(this.left, this.right).where(this.leftKey).equalTo(key));
  }
}

export class JoinEqualTo<L, R, K extends Key> {
  /** @internal */
  constructor(private readonly coGroup: CoGroupEqualTo<L, R, K>) {}

  /** The windows both sides' records are grouped in (one assigner for the union of both inputs). */
  window<W extends Window>(assigner: WindowAssigner<TaggedUnion<L, R>, W>): JoinWithWindow<L, R, K, W> {
    return new JoinWithWindow<L, R, K, W>(this.coGroup.window(assigner));
  }
}

/** A join with its windows: optionally set a trigger, an evictor and allowed lateness, then `apply`. */
export class JoinWithWindow<L, R, K extends Key, W extends Window> {
  /** @internal */
  constructor(private readonly coGroup: CoGroupWithWindow<L, R, K, W>) {}

  /** Replaces the assigner's default trigger. */
  trigger(trigger: Trigger<TaggedUnion<L, R>, W>): this {
    this.coGroup.trigger(trigger);
    return this;
  }
  /** Removes records of either side from a window before the pairs are formed. */
  evictor(evictor: Evictor<TaggedUnion<L, R>, W>): this {
    this.coGroup.evictor(evictor);
    return this;
  }
  /** Keeps windows this many ms of event time past their end, as `WindowedStream.allowedLateness`. */
  allowedLateness(latenessMs: number): this {
    this.coGroup.allowedLateness(latenessMs);
    return this;
  }

  /**
   * Adds the operators (named "WindowJoin"). A plain function or an object with `join` emits one
   * record per pair; an object with `flatJoin` emits any number through its collector.
   */
  apply<O>(fn: FlatJoinFunction<L, R, O>): OperatorStream<O>;
  apply<O>(fn: JoinFunction<L, R, O>): OperatorStream<O>;
  apply<O>(fn: JoinFunction<L, R, O> | FlatJoinFunction<L, R, O>): OperatorStream<O> {
    return this.coGroup.build(new JoinCoGroupFunction<L, R, O>(fn), "WindowJoin");
  }
}

/** A join as a coGroup: the nested loop over a window's left and right records of one key. */
class JoinCoGroupFunction<L, R, O> implements RichCoGroupFunction<L, R, O> {
  constructor(private readonly fn: JoinFunction<L, R, O> | FlatJoinFunction<L, R, O>) {}

  open(context: RuntimeContext): void | Promise<void> {
    if (typeof this.fn !== "function") return this.fn.open?.(context);
  }
  close(): void | Promise<void> {
    if (typeof this.fn !== "function") return this.fn.close?.();
  }

  coGroup(lefts: readonly L[], rights: readonly R[], out: Collector<O>): void {
    const fn = this.fn;
    if (typeof fn === "function") {
      for (const left of lefts) for (const right of rights) out.collect(fn(left, right));
    } else if ("flatJoin" in fn) {
      for (const left of lefts) for (const right of rights) fn.flatJoin(left, right, out);
    } else {
      for (const left of lefts) for (const right of rights) out.collect(fn.join(left, right));
    }
  }
}
