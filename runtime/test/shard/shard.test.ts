import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defineJob, type StreamEnvironment } from "@keyflow/functions-sdk";
import { execute, JobFailedError } from "../../src/index.js";

/** Runs a job that must fail and returns the reason that reached the caller. */
async function failureOf(build: (env: StreamEnvironment) => void): Promise<JobFailedError["reason"]> {
  try {
    await execute(defineJob("lifecycle", build));
  } catch (error) {
    assert.ok(error instanceof JobFailedError, `expected JobFailedError, got ${String(error)}`);
    return error.reason;
  }
  assert.fail("the job did not fail");
}

describe("a shard's lifecycle", () => {
  it("fails the job naming the source when its reader cannot be created", async () => {
    const reason = await failureOf((env) => {
      env
        .fromSource(
          {
            createReader: () => {
              throw new Error("no such bucket");
            },
          },
          "Bucket",
        )
        .discard();
    });
    assert.equal(reason.code, "USER_FUNCTION_FAILED");
    assert.equal(reason.details.operator, "Bucket");
    assert.equal(reason.details.record, '"(create reader)"');
    assert.match(reason.message, /no such bucket/);
  });

  it("fails the job naming the sink when its writer cannot be created", async () => {
    const reason = await failureOf((env) => {
      env
        .fromCollection([1])
        .sinkTo({
          createWriter: () => {
            throw new Error("read-only");
          },
        })
        .name("Archive");
    });
    assert.equal(reason.code, "USER_FUNCTION_FAILED");
    assert.equal(reason.details.operator, "Archive");
    assert.equal(reason.details.record, '"(create writer)"');
  });

  it("fails the job naming the operator when a function's close throws, and closes the others once", async () => {
    const closed: string[] = [];
    const reason = await failureOf((env) => {
      env
        .fromSource(
          {
            createReader: () => ({
              poll(out) {
                out.collect(1);
                return "end";
              },
              close: () => void closed.push("reader"),
            }),
          },
          "Source",
        )
        .map({
          map: (x: number) => x,
          close() {
            closed.push("first");
            throw new Error("flush failed");
          },
        })
        .name("First")
        .map({ map: (x: number) => x, close: () => void closed.push("second") })
        .name("Second")
        .sinkTo({ createWriter: () => ({ write() {}, close: () => void closed.push("sink") }) });
    });
    assert.equal(reason.code, "USER_FUNCTION_FAILED");
    assert.equal(reason.details.operator, "First");
    assert.equal(reason.details.record, '"(close)"');
    assert.deepEqual(closed.sort(), ["first", "reader", "second", "sink"]);
  });

  it("fails the job naming the source when its reader's close throws", async () => {
    const reason = await failureOf((env) => {
      env
        .fromSource(
          {
            createReader: () => ({
              poll: () => "end",
              close() {
                throw new Error("cannot release lease");
              },
            }),
          },
          "Leased",
        )
        .discard();
    });
    assert.equal(reason.details.operator, "Leased");
    assert.equal(reason.details.record, '"(source close)"');
  });

  it("fails the job naming the source when a poll's promise rejects", async () => {
    const reason = await failureOf((env) => {
      env
        .fromSource({ createReader: () => ({ poll: () => Promise.reject(new Error("disk gone")) }) }, "Files")
        .discard();
    });
    assert.equal(reason.code, "USER_FUNCTION_FAILED");
    assert.equal(reason.details.operator, "Files");
    assert.match(reason.message, /disk gone/);
  });

  it("fails the job naming the operator when a function object has no method to call", async () => {
    const reason = await failureOf((env) => {
      env
        .fromCollection([1])
        .map({ mapp: (x: number) => x } as never)
        .name("Typo")
        .discard();
    });
    assert.equal(reason.details.operator, "Typo");
    assert.match(reason.message, /expected a function or an object with a map\(\) method/);
  });

  it("flushes a sink at end of input before closing it", async () => {
    const events: string[] = [];
    await execute(
      defineJob("flush", (env) => {
        env.fromCollection([1, 2]).sinkTo({
          createWriter: () => ({
            write: (x) => void events.push(`write ${x}`),
            flush: async () => {
              await new Promise((resolve) => setTimeout(resolve, 5));
              events.push("flush");
            },
            close: () => void events.push("close"),
          }),
        });
      }),
    );
    assert.deepEqual(events, ["write 1", "write 2", "flush", "close"]);
  });
});
