import { rm } from "node:fs/promises";
import { createConnection, createServer, type Server } from "node:net";
import { join } from "node:path";

/** A request to a running `keyflow run --state-dir DIR`, sent by `keyflow savepoint DIR`. */
export interface ControlRequest {
  readonly command: "savepoint" | "stop-with-savepoint";
  /** Where to export the savepoint (a folder of its own); default: kept in the state folder only. */
  readonly target?: string;
}

export type ControlResponse =
  | { readonly ok: true; readonly savepointId: number; readonly path: string | undefined }
  | { readonly ok: false; readonly error: string };

/** The control socket of a job running with a state folder: `DIR/control.sock`. */
export function controlSocketPath(stateDir: string): string {
  return join(stateDir, "control.sock");
}

/**
 * Serves control requests on the state folder's socket, one JSON line each way. Local only:
 * whoever can write to the state folder can ask for a savepoint.
 */
export async function serveControl(
  stateDir: string,
  handle: (request: ControlRequest) => Promise<ControlResponse>,
): Promise<Server> {
  const path = controlSocketPath(stateDir);
  await rm(path, { force: true }); // left by a process that was killed
  const server = createServer((socket) => {
    let buffer = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      buffer += chunk;
      const end = buffer.indexOf("\n");
      if (end < 0) return;
      const line = buffer.slice(0, end);
      let request: ControlRequest;
      try {
        request = JSON.parse(line) as ControlRequest;
      } catch {
        socket.end(`${JSON.stringify({ ok: false, error: "not a JSON request" })}\n`);
        return;
      }
      handle(request).then(
        (response) => socket.end(`${JSON.stringify(response)}\n`),
        (error: unknown) =>
          socket.end(
            `${JSON.stringify({ ok: false, error: error instanceof Error ? error.message : String(error) })}\n`,
          ),
      );
    });
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => resolve());
  });
  return server;
}

/** Sends one request to the job running with `stateDir`; rejects with a clear message when none listens. */
export function sendControl(stateDir: string, request: ControlRequest): Promise<ControlResponse> {
  const path = controlSocketPath(stateDir);
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let buffer = "";
    socket.setEncoding("utf8");
    socket.on("connect", () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on("data", (chunk: string) => {
      buffer += chunk;
    });
    socket.on("end", () => {
      try {
        resolve(JSON.parse(buffer.trim()) as ControlResponse);
      } catch {
        reject(new Error(`the job at ${stateDir} answered something that is not a response`));
      }
    });
    socket.on("error", (error: NodeJS.ErrnoException) =>
      reject(
        new Error(
          error.code === "ENOENT" || error.code === "ECONNREFUSED"
            ? `no job is running with state folder ${stateDir} (nothing listens on ${path})`
            : `cannot reach the job at ${path}: ${error.message}`,
        ),
      ),
    );
  });
}
