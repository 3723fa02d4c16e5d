import { mkdir, rm } from "node:fs/promises";
import { createConnection, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { JobStatus } from "../coordinator/job-status.js";
import type { StateQuery } from "../query/state-query.js";

/**
 * A request to a running `keyflow run`: a savepoint (`keyflow savepoint DIR`) or the job's status
 * (`keyflow status DIR`), on the state folder's socket; or a queryable-state query (`keyflow
 * query`, on either socket).
 */
export type ControlRequest =
  | {
      readonly command: "savepoint" | "stop-with-savepoint";
      /** Where to export the savepoint (a folder of its own); default: kept in the state folder only. */
      readonly target?: string;
    }
  | { readonly command: "status" }
  | { readonly command: "query"; readonly query: StateQuery };

export type ControlResponse =
  | { readonly ok: true; readonly savepointId: number; readonly path: string | undefined }
  | { readonly ok: true; readonly status: JobStatus }
  /** A query's answer, its state made JSON-friendly (query/json-state.ts). */
  | { readonly ok: true; readonly answer: unknown }
  | {
      readonly ok: false;
      readonly error: string;
      /** The error's code (a StateQueryError's, for a query), when it has one. */
      readonly code?: string;
      readonly details?: Readonly<Record<string, unknown>>;
    };

/**
 * The socket every `keyflow run` of job `jobId` listens on for queries, whatever its options:
 * `$KEYFLOW_RUN_DIR/<jobId>.sock`, by default in `<tmpdir>/keyflow-<uid>/`. The last run of a job
 * started on this machine owns it; `keyflow query --state-dir` picks a run by its state folder.
 */
export function runSocketPath(jobId: string): string {
  const dir = process.env.KEYFLOW_RUN_DIR ?? join(tmpdir(), `keyflow-${process.getuid?.() ?? "user"}`);
  return join(dir, `${jobId}.sock`);
}

/** The control socket of a job running with a state folder: `DIR/control.sock`. */
export function controlSocketPath(stateDir: string): string {
  return join(stateDir, "control.sock");
}

/**
 * Serves control requests on the state folder's socket, one JSON line each way. Local only:
 * whoever can write to the state folder can ask for a savepoint.
 */
export function serveControl(
  stateDir: string,
  handle: (request: ControlRequest) => Promise<ControlResponse>,
): Promise<Server> {
  return serveControlAt(controlSocketPath(stateDir), handle);
}

/** `serveControl` on a socket at `path` (its folder made when missing). */
export async function serveControlAt(
  path: string,
  handle: (request: ControlRequest) => Promise<ControlResponse>,
): Promise<Server> {
  await mkdir(dirname(path), { recursive: true });
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
        (error: unknown) => {
          const code = (error as { code?: unknown }).code;
          const failure: ControlResponse = {
            ok: false,
            error: error instanceof Error ? error.message : String(error),
            ...(typeof code === "string" ? { code } : {}),
          };
          socket.end(`${JSON.stringify(failure)}\n`);
        },
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
  return sendControlTo(controlSocketPath(stateDir), request, `state folder ${stateDir}`);
}

/** Sends one request on the socket at `path`; `what` names the job in the error when none listens. */
export function sendControlTo(path: string, request: ControlRequest, what: string): Promise<ControlResponse> {
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
        reject(new Error(`the job with ${what} answered something that is not a response`));
      }
    });
    socket.on("error", (error: NodeJS.ErrnoException) =>
      reject(
        new Error(
          error.code === "ENOENT" || error.code === "ECONNREFUSED"
            ? `no job is running with ${what} (nothing listens on ${path})`
            : `cannot reach the job at ${path}: ${error.message}`,
        ),
      ),
    );
  });
}
