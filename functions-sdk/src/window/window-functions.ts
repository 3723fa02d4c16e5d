import type { Collector, OutputTag } from "../function/collector.js";
import type { RichFunction } from "../function/runtime-context.js";
import type { Key } from "../key.js";
import type { StateDeclarations } from "../state/descriptors.js";
import type { StateHandles } from "../state/handles.js";
import type { Window } from "./window.js";

/**
 * What a process window function knows when its window fires: the window, the clocks, state of
 * this key and window (`windowState`, cleared with the window) and of this key across windows
 * (`globalState`), and side outputs.
 */
export interface ProcessWindowContext<W extends Window, WS extends StateDeclarations, GS extends StateDeclarations> {
  readonly window: W;
  currentWatermark(): number;
  currentProcessingTime(): number;
  readonly windowState: StateHandles<WS>;
  readonly globalState: StateHandles<GS>;
  output<X>(tag: OutputTag<X>, value: X): void;
}

/**
 * Called when a window fires, with every record of the window (or the one pre-aggregated result
 * when combined with `reduce` / `aggregate`). Results are emitted with the window's max timestamp.
 *
 * ```ts
 * const minMax: ProcessWindowFunction<Reading, MinMax, string, TimeWindow> = {
 *   process(key, ctx, readings, out) {
 *     const temps = readings.map((r) => r.temperature);
 *     out.collect({ id: key, min: Math.min(...temps), max: Math.max(...temps), endTs: ctx.window.end });
 *   },
 * };
 * ```
 */
export interface ProcessWindowFunction<
  IN,
  OUT,
  K extends Key,
  W extends Window,
  WS extends StateDeclarations = Record<never, never>,
  GS extends StateDeclarations = Record<never, never>,
> extends RichFunction {
  /** Per-window state, by name (cleared when the window is). */
  readonly windowState?: WS;
  /** Per-key state shared by all windows of the key, by name. */
  readonly globalState?: GS;
  process(key: K, ctx: ProcessWindowContext<W, WS, GS>, elements: readonly IN[], out: Collector<OUT>): void;
  /** The window is being cleared: delete what `windowState` holds for it (done for you after this call). */
  clear?(ctx: ProcessWindowContext<W, WS, GS>): void;
}
