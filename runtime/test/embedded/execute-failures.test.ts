import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { defineJob, InvalidJobError, type StreamEnvironment, valueState } from "@keyflow/functions-sdk";
import { execute, JobCancelledError, JobFailedError } from "../../src/index.js";
import failingJob, { POISON } from "../fixtures/failing-job.js";

const FAILING_JOB = new URL("../fixtures/failing-job.js", import.meta.url);
const RUNTIME = new URL("../../src/index.js", import.meta.url);

async function rejectsInvalid(build: (env: StreamEnvironment) => void, operator: string, options = {}): Promise<void> {
  let ran = false;
  const job = defineJob("invalid", (env) => {
    build(env);
    env.fromSource({
      createReader: () => {
        ran = true;
        return { poll: () => "end" };
      },
    });
  });
  await assert.rejects(execute(job, options), (error: unknown) => {
    assert.ok(error instanceof InvalidJobError, `expected InvalidJobError, got ${String(error)}`);
    assert.equal(error.code, "JOB_INVALID");
    assert.equal(error.operator, operator);
    assert.match(error.message, new RegExp(`operator "${operator}"`));
    return true;
  });
  assert.equal(ran, false, "nothing ran");
}

/** Asserts the failure a poisoned record causes in failing-job.ts, as it reached the caller. */
function assertPoisoned(reason: JobFailedError["reason"]): void {
  assert.equal(reason.code, "USER_FUNCTION_FAILED", reason.message);
  assert.equal(reason.details.operator, "Explode");
  assert.equal(reason.details.shard, "Explode#0", "record 4242 comes from source shard 0 and stays on shard 0");
  const record = reason.details.record ?? "";
  assert.ok(record.startsWith(`{"i":${POISON},"payload":"xxxx`), record);
  assert.ok(record.length < 300, `the record is shortened (${record.length} chars)`);
  assert.match(record, /… \(5\d{3} chars\)$/);
  assert.match(reason.message, /cannot handle record 4242/);
}

/** Runs a module in a fresh node process, which only exits once nothing (no worker, no timer) is left running. */
async function runAlone(
  source: string,
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const dir = await mkdtemp(join(tmpdir(), "keyflow-test-"));
  const file = join(dir, "run.mjs");
  await writeFile(file, source);
  try {
    return await new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [file], { stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk) => (stdout += chunk));
      child.stderr.on("data", (chunk) => (stderr += chunk));
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(
          new Error(`the process did not exit within ${timeoutMs} ms: something was left running\n${stdout}${stderr}`),
        );
      }, timeoutMs);
      child.on("exit", (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe("execute with bad input", () => {
  it("rejects a parallelism above maxParallelism before running anything", async () => {
    await rejectsInvalid(
      (env) => {
        env.setMaxParallelism(8);
        env
          .fromCollection([1])
          .keyBy((x) => x)
          .sum()
          .name("Totals");
      },
      "Totals",
      { parallelism: 9 },
    );
  });

  it("rejects keyed state declared on a non-keyed stream, naming the operator", async () => {
    await rejectsInvalid((env) => {
      const counter = { state: { n: valueState<number>() }, processElement() {} };
      env.fromCollection([1]).process(counter).name("Counter");
    }, "Counter");
  });

  it("rejects two operators with one uid", async () => {
    await rejectsInvalid((env) => {
      env
        .fromCollection([1])
        .map((x) => x)
        .name("One")
        .uid("same")
        .map((x) => x)
        .name("Two")
        .uid("same");
    }, "Two");
  });

  it("rejects a forward edge between different parallelism", async () => {
    await rejectsInvalid((env) => {
      env
        .fromCollection([1])
        .forward()
        .map((x) => x)
        .name("Wider")
        .setParallelism(2);
    }, "Wider");
  });

  it("rejects a job module that fails its checks before starting any worker", async () => {
    await assert.rejects(
      execute(new URL("../fixtures/invalid-job.js", import.meta.url), { workers: 2 }),
      (error: unknown) => {
        assert.equal((error as InvalidJobError).code, "JOB_INVALID");
        assert.equal((error as InvalidJobError).operator, "Wider");
        return true;
      },
    );
  });
});

describe("a user function that throws", () => {
  it("fails the job on the calling thread naming the operator, the shard and the shortened record", async () => {
    await assert.rejects(execute(failingJob, { workers: 0 }), (error: unknown) => {
      assert.ok(error instanceof JobFailedError, String(error));
      assert.equal(error.code, "JOB_FAILED");
      assert.equal(error.jobName, "failing");
      assertPoisoned(error.reason);
      return true;
    });
  });

  it("fails the job on worker threads with the same named reason", async () => {
    await assert.rejects(execute(FAILING_JOB, { workers: 2 }), (error: unknown) => {
      assert.ok(error instanceof JobFailedError, String(error));
      assertPoisoned(error.reason);
      return true;
    });
  });

  for (const workers of [0, 2]) {
    it(`settles and leaves nothing running (${workers === 0 ? "calling thread" : "2 workers"}): the process exits`, async () => {
      const script = `
        import { execute } from ${JSON.stringify(RUNTIME.href)};
        const job = ${workers === 0 ? `(await import(${JSON.stringify(FAILING_JOB.href)})).default` : JSON.stringify(FAILING_JOB.href)};
        try {
          await execute(${workers === 0 ? "job" : "new URL(job)"}, { workers: ${workers} });
          console.log("resolved");
        } catch (error) {
          console.log(JSON.stringify({ code: error.code, reason: error.reason.code }));
        }`;
      const { code, stdout, stderr } = await runAlone(script, 20_000);
      assert.equal(code, 0, stderr);
      assert.deepEqual(JSON.parse(stdout.trim()), { code: "JOB_FAILED", reason: "USER_FUNCTION_FAILED" });
    });
  }
});

describe("cancelling with an AbortSignal", () => {
  const ENDLESS_JOB = new URL("../fixtures/endless-job.js", import.meta.url);

  for (const workers of [0, 2]) {
    it(`stops an endless job and rejects with JobCancelledError (${workers === 0 ? "calling thread" : "2 workers"})`, async () => {
      const controller = new AbortController();
      const job = workers === 0 ? (await import(ENDLESS_JOB.href)).default : ENDLESS_JOB;
      setTimeout(() => controller.abort(), 100);
      await assert.rejects(execute(job, { workers, signal: controller.signal }), (error: unknown) => {
        assert.ok(error instanceof JobCancelledError, String(error));
        assert.equal(error.code, "JOB_CANCELLED");
        assert.equal(error.jobName, "endless");
        return true;
      });
    });
  }

  it("rejects at once with a signal that was aborted before the job started", async () => {
    const controller = new AbortController();
    controller.abort();
    let polled = false;
    const job = defineJob("never", (env) => {
      env
        .fromSource({
          createReader: () => ({
            poll: () => {
              polled = true;
              return "end";
            },
          }),
        })
        .discard();
    });
    await assert.rejects(execute(job, { signal: controller.signal }), JobCancelledError);
    await assert.rejects(execute(ENDLESS_JOB, { workers: 2, signal: controller.signal }), JobCancelledError);
    assert.equal(polled, false);
  });
});
