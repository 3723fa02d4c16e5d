import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  type CheckpointCoordinator,
  type CheckpointMetadata,
  CheckpointRefusedError,
  CheckpointStore,
  execute,
  type JobControl,
  JobEndedBeforeStopError,
} from "../../src/index.js";
import { chaosJob, expected, type Total, totals, type WindowCount, windows } from "../fixtures/chaos-job.js";

const byKey = (a: Total, b: Total) => a.key.localeCompare(b.key);
const byWindow = (a: WindowCount, b: WindowCount) => a.key.localeCompare(b.key) || a.end - b.end;

describe("stop-with-savepoint when the job cannot stop there", () => {
  let dir: string;
  let store: CheckpointStore;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "keyflow-stop-"));
    store = await CheckpointStore.open(dir);
  });
  after(async () => {
    await store?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it("says the job ended before it could stop, and the run finishes with every result, when the sources finish while the savepoint completes", async () => {
    // The savepoint's metadata is written only once the run has ended (the coordinator is told to
    // stop when the shards finished): the order the race leaves to chance, made certain.
    let runEnded: () => void = () => {};
    const ended = new Promise<void>((resolve) => {
      runEnded = resolve;
    });
    const storage = new Proxy(store, {
      get(target, property) {
        if (property === "complete") {
          return async (metadata: CheckpointMetadata) => {
            if (metadata.kind === "savepoint") await ended;
            return target.complete(metadata);
          };
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    let control: JobControl | undefined;
    const run = execute(chaosJob(new Set(), new Set(), 2, 60_000), {
      workers: 0,
      batchSize: 100,
      checkpoints: { intervalMs: 60_000, storage },
      restartStrategy: { kind: "none" },
      onControl: (c) => {
        control = c;
      },
      onCoordinator: (coordinator: CheckpointCoordinator) => {
        const stop = coordinator.stop.bind(coordinator);
        coordinator.stop = () => {
          runEnded();
          return stop();
        };
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const stopping = (control as JobControl).stopWithSavepoint();
    await assert.rejects(stopping, (error: unknown) => {
      assert.ok(error instanceof JobEndedBeforeStopError, String(error));
      assert.equal(error.code, "JOB_ENDED_BEFORE_STOP");
      assert.match(error.message, /the job ended before it could stop at savepoint \d+: the savepoint is complete/);
      return true;
    });
    const result = await run;
    assert.equal(result.savepoint, undefined, "the run did not stop at a savepoint");
    const truth = expected();
    assert.deepEqual([...result.get(totals)].sort(byKey), [...truth.totals].sort(byKey));
    assert.deepEqual([...result.get(windows)].sort(byWindow), [...truth.windows].sort(byWindow));
    // The savepoint is complete and stays restorable.
    const latest = store.latestCompleted();
    assert.equal(latest?.kind, "savepoint");
  });

  it("refuses a savepoint with CHECKPOINT_REFUSED once the job has ended", async () => {
    let control: JobControl | undefined;
    await execute(chaosJob(new Set(), new Set(), 2), {
      workers: 0,
      checkpoints: { intervalMs: 60_000, storage: store },
      restartStrategy: { kind: "none" },
      onControl: (c) => {
        control = c;
      },
    });
    for (const ask of [() => control?.savepoint(), () => control?.stopWithSavepoint()]) {
      await assert.rejects(Promise.resolve(ask()), (error: unknown) => {
        assert.ok(error instanceof CheckpointRefusedError, String(error));
        assert.equal(error.code, "CHECKPOINT_REFUSED");
        assert.equal(error.retriable, true);
        assert.match(error.message, /cannot take a savepoint now: the job is not running/);
        return true;
      });
    }
  });
});
