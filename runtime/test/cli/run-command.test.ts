import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}.js`, import.meta.url));
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
});

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runCli(args: string[], onStdout?: (child: ChildProcess, text: string) => void): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    children.push(child);
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      onStdout?.(child, stdout);
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe("keyflow run", () => {
  it("runs an unbounded job until Ctrl-C, then stops cleanly with exit code 0", async () => {
    let interrupted = false;
    const exit = await runCli(["run", fixture("cli-unbounded-job"), "--parallelism", "2"], (child, stdout) => {
      // Interrupt once results are flowing from both shards.
      if (!interrupted && stdout.includes("1> ") && stdout.includes("2> ")) {
        interrupted = true;
        child.kill("SIGINT");
      }
    });
    assert.ok(interrupted, `the job printed results before the interrupt:\n${exit.stdout.slice(0, 500)}`);
    assert.equal(exit.code, 0, exit.stderr);
    assert.match(exit.stderr, /job cancelled/);
  });

  it("fails a job whose function throws with one line naming the operator, shard and record", async () => {
    const exit = await runCli(["run", fixture("cli-failing-job"), "--parallelism", "2"]);
    assert.equal(exit.code, 1);
    assert.match(
      exit.stderr,
      /operator "Explode" \(shard Explode#\d\) failed on record \{"id":1234,"payload":"xxxxxxxxxx"\}/,
    );
    assert.match(exit.stderr, /cannot handle record 1234/);
    assert.doesNotMatch(exit.stderr, /\n\s+at /, "no stack trace without KEYFLOW_DEBUG");
  });

  it("names a job module that does not exist", async () => {
    const exit = await runCli(["run", "/nonexistent/job.js"]);
    assert.equal(exit.code, 1);
    assert.match(exit.stderr, /job module file:\/\/\/nonexistent\/job\.js: could not be imported/);
  });

  it("refuses a parallelism that is not a positive integer", async () => {
    const exit = await runCli(["run", fixture("cli-unbounded-job"), "--parallelism", "0"]);
    assert.notEqual(exit.code, 0);
    assert.match(exit.stderr, /--parallelism.*must be a positive integer/);
  });
});
