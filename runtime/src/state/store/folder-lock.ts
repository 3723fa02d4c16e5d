import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The store's own lock on its folder, across the threads of a process. LevelDB's lock refuses a
 * second handle from another process, and one from this process only without `multithreading`;
 * the store opens LevelDB with `multithreading` (its encoder thread writes through a handle of
 * its own), so a store on another worker thread of this process would share the database and
 * both would write catalogs over each other. A file created exclusively says which process holds
 * the folder: its id and, where the system tells, its start time, so a process that died (a
 * SIGKILL leaves the file) or a new process that got the same id is told apart from a live holder.
 */
export const LOCK_FILE = "KEYFLOW.lock";

/** Why the lock was refused: the folder is held by this process (another thread) or a live other one. */
export class FolderHeld extends Error {}

/** Takes the lock of `dir` (made if missing), or throws FolderHeld. */
export function lockFolder(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  const me = thisProcess();
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(path, me, { flag: "wx" });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    let holder: string;
    try {
      holder = readFileSync(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") continue; // released meanwhile
      throw error;
    }
    if (holder === me) throw new FolderHeld("the folder is open in this process already (on another thread)");
    if (isLive(holder)) throw new FolderHeld(`the folder is open in process ${holder.split(" ")[0]}`);
    try {
      unlinkSync(path); // left by a process that is gone
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }
  throw new FolderHeld("the folder's lock changed hands while it was taken");
}

/** Gives the lock of `dir` back, if this process holds it. */
export function unlockFolder(dir: string): void {
  const path = join(dir, LOCK_FILE);
  try {
    if (readFileSync(path, "utf8") === thisProcess()) unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

let identity: string | undefined;

/** "pid starttime" (Linux: the process's start in clock ticks since boot, the same on every thread), else "pid". */
function thisProcess(): string {
  identity ??= identify(process.pid);
  return identity;
}

function identify(pid: number): string {
  const start = startTime(pid);
  return start === undefined ? String(pid) : `${pid} ${start}`;
}

function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

function isLive(holder: string): boolean {
  const pid = Number(holder.split(" ")[0]);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"; // alive, another user's
  }
  return identify(pid) === holder || !holder.includes(" ");
}
