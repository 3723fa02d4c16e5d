import type { OutputTag, ProcessWindowContext, StateDeclarations, StateHandles, Window } from "@keyflow/functions-sdk";
import { GlobalWindow } from "@keyflow/functions-sdk";
import type { Output } from "../operator/operator.js";

/** The clocks of a window operator: its timer service's watermark and processing time. */
export interface WindowClocks {
  readonly currentWatermark: number;
  currentProcessingTime(): number;
}

/**
 * The `ctx` of a process window function. One object per operator; the operator sets `window`
 * (and the state cursors) before each call, so a firing allocates no context. Side outputs carry
 * the window's max timestamp, as the main output does.
 */
export class WindowProcessContext implements ProcessWindowContext<Window, StateDeclarations, StateDeclarations> {
  /** @internal The window being fired or cleared. */
  window: Window = GlobalWindow.instance;

  constructor(
    private readonly out: Output,
    private readonly clocks: WindowClocks,
    readonly windowState: StateHandles<StateDeclarations>,
    readonly globalState: StateHandles<StateDeclarations>,
  ) {}

  currentWatermark(): number {
    return this.clocks.currentWatermark;
  }
  currentProcessingTime(): number {
    return this.clocks.currentProcessingTime();
  }
  output<X>(tag: OutputTag<X>, value: X): void {
    this.out.collectSide(tag.id, value, this.window.maxTimestamp());
  }
}
