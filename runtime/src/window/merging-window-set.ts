import type { Window } from "@keyflow/functions-sdk";

/**
 * Called when windows merge: `mergeResult` replaces `mergedWindows` (the key's earlier windows
 * that went into it; never the new window itself), and the contents of `mergedStateWindows` go
 * into `stateWindowResult`, the state window the result keeps.
 */
export type MergeFunction<W> = (
  mergeResult: W,
  mergedWindows: readonly W[],
  stateWindowResult: W,
  mergedStateWindows: readonly W[],
) => void;

interface Entry<W> {
  readonly window: W;
  readonly stateWindow: W;
}

/**
 * The in-flight windows of one key of a merging assigner (session windows), as Flink's
 * MergingWindowSet: each actual window maps to a state window, the window under which its
 * contents are stored. When windows merge, the result takes the state window of one of them and
 * only the others' contents move into it, so a long session does not copy its contents on every
 * record that extends it. Window identity is the assigner's `windowId`.
 */
export class MergingWindowSet<W extends Window> {
  private readonly mapping = new Map<unknown, Entry<W>>();
  /** Checkpoint bookkeeping: the epoch its key's change was last recorded in (ChangeHolder). */
  changedIn = -1;

  constructor(
    private readonly mergeWindows: (windows: readonly W[], merge: (group: readonly W[], into: W) => void) => void,
    private readonly idOf: (window: W) => unknown,
  ) {}

  get size(): number {
    return this.mapping.size;
  }

  /** The in-flight windows with their state windows (snapshots). */
  entries(): Array<[W, W]> {
    return Array.from(this.mapping.values(), (entry) => [entry.window, entry.stateWindow]);
  }

  /** A copy, for a snapshot read while this set changes (windows are immutable: the mapping is copied). */
  copy(): MergingWindowSet<W> {
    const copy = new MergingWindowSet<W>(this.mergeWindows, this.idOf);
    for (const [id, entry] of this.mapping) copy.mapping.set(id, entry);
    return copy;
  }

  /** Puts back an in-flight window of a snapshot. */
  restore(window: W, stateWindow: W): void {
    this.mapping.set(this.idOf(window), { window, stateWindow });
  }

  /** The state window of an in-flight window, or undefined when the window is not (or no longer) in flight. */
  stateWindowOf(window: W): W | undefined {
    return this.mapping.get(this.idOf(window))?.stateWindow;
  }

  /** Removes a window that was cleaned up (or was late as soon as it was added). */
  retire(window: W): void {
    this.mapping.delete(this.idOf(window));
  }

  /**
   * Adds a window of a new record, merging it with the in-flight windows it overlaps (the
   * assigner decides), and returns the window the record belongs to now: the new window, or
   * the result of the merge it went into. `merge` runs for each merge before this returns.
   */
  addWindow(newWindow: W, merge: MergeFunction<W>): W {
    const windows: W[] = [];
    for (const entry of this.mapping.values()) windows.push(entry.window);
    windows.push(newWindow);
    const results: Array<{ readonly into: W; readonly group: W[] }> = [];
    this.mergeWindows(windows, (group, into) => results.push({ into, group: [...group] }));

    const newId = this.idOf(newWindow);
    let resultWindow = newWindow;
    let mergedNewWindow = false;
    for (const { into, group } of results) {
      const newIndex = group.findIndex((window) => this.idOf(window) === newId);
      if (newIndex >= 0) {
        group.splice(newIndex, 1);
        mergedNewWindow = true;
        resultWindow = into;
      }
      // The result keeps the state window of one merged window; the others' contents move into it.
      const firstEntry = group.length === 0 ? undefined : this.mapping.get(this.idOf(group[0] as W));
      if (firstEntry === undefined) {
        // Only the new window (a custom assigner's one-window group): a fresh window with no contents.
        this.mapping.set(this.idOf(into), { window: into, stateWindow: into });
        continue;
      }
      const stateWindowResult = firstEntry.stateWindow;
      const stateResultId = this.idOf(stateWindowResult);
      const mergedStateWindows: W[] = [];
      for (const window of group) {
        const id = this.idOf(window);
        const entry = this.mapping.get(id);
        if (entry === undefined) continue;
        this.mapping.delete(id);
        if (this.idOf(entry.stateWindow) !== stateResultId) mergedStateWindows.push(entry.stateWindow);
      }
      const intoId = this.idOf(into);
      this.mapping.set(intoId, { window: into, stateWindow: stateWindowResult });
      // A new window inside one in-flight window only "merges" that window into itself: nothing to do.
      if (!(group.length === 1 && this.idOf(group[0] as W) === intoId)) {
        merge(into, group, stateWindowResult, mergedStateWindows);
      }
    }
    if (results.length === 0 || (!mergedNewWindow && this.idOf(resultWindow) === newId)) {
      this.mapping.set(newId, { window: newWindow, stateWindow: newWindow });
    }
    return resultWindow;
  }
}
