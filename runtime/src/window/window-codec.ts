import { GlobalWindow, TimeWindow, type Window } from "@keyflow/functions-sdk";
import type { NamespaceCodec } from "../state/timer-state.js";
import { WindowNotSnapshottableError } from "./errors.js";

/**
 * Windows in snapshots (timer namespaces, merging sets): a TimeWindow as [start, end], the
 * GlobalWindow as "global". Part of the checkpoint format. Other Window classes (of a custom
 * assigner) have no stable form: snapshotting one fails that checkpoint with
 * WindowNotSnapshottableError.
 */
export function encodeWindow(window: Window): unknown {
  if (window instanceof TimeWindow) return [window.start, window.end];
  if (window === GlobalWindow.instance) return "global";
  throw new WindowNotSnapshottableError(String(window));
}

export function decodeWindow(encoded: unknown): Window {
  if (encoded === "global") return GlobalWindow.instance;
  if (Array.isArray(encoded) && typeof encoded[0] === "number" && typeof encoded[1] === "number") {
    return new TimeWindow(encoded[0], encoded[1]);
  }
  throw new TypeError(`not a window in a snapshot: ${JSON.stringify(encoded)}`);
}

/** Timer namespaces of window operators: the window. */
export const WINDOW_NAMESPACE: NamespaceCodec<Window> = { encode: encodeWindow, decode: decodeWindow };
