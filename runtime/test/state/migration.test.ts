import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Collector, collectSink, defineJob, listState, mapState, valueState } from "@keyflow/functions-sdk";
import { decodeStoreRecord, encodeStoreRecord } from "../../src/codec/store-codec.js";
import { JobFailedError } from "../../src/index.js";
import { FORMAT_KEY, manifestKey, metadataKey } from "../../src/state/store/keys.js";
import { STORE_FORMAT } from "../../src/state/store/records.js";
import { SavepointRuns } from "../helpers/savepoint-runs.js";
import { withRawDb } from "./store/store-fixtures.js";

/*
 * Version 1 of a job stores readings in celsius; version 2 declares its states at version 2 in
 * kelvin, with a migrate hook per state (whole value, per list element, per map value).
 */

const KEYS = 5;
const V1_RECORDS = 100;
const V2_RECORDS = 30;
/** Version 2 sees only keys k0..k2: k3 and k4 keep what the restore gave them. */
const V2_KEYS = 3;

interface Celsius {
  celsius: number;
}
interface Kelvin {
  kelvin: number;
}
type Output = { key: string; reading: Kelvin | undefined; history: Kelvin[]; byBucket: Array<[string, Kelvin]> };
const outputs = collectSink<Output>("outputs");

const celsiusAt = (i: number) => (i % 40) - 10;
const toKelvin = (celsius: number): Kelvin => ({ kelvin: celsius + 273.15 });

function version1(progress: { processed: number }, version?: number) {
  return defineJob("thermometers", (env) => {
    env
      .generate({ make: (i) => ({ key: `k${i % KEYS}`, i }) })
      .uid("source-v1")
      .filter((r) => r.i < V1_RECORDS)
      .keyBy((r) => r.key)
      .process({
        state: {
          reading: valueState<Celsius>(version === undefined ? {} : { version }),
          history: listState<Celsius>(),
          byBucket: mapState<string, Celsius>(),
        },
        processElement(r, ctx, _out: Collector<Output>) {
          const reading = { celsius: celsiusAt(r.i) };
          ctx.state.reading.update(reading);
          ctx.state.history.add(reading);
          ctx.state.byBucket.put(`b${r.i % 2}`, reading);
          progress.processed++;
        },
      })
      .uid("thermometer")
      .collect(outputs);
  });
}

/** Calls of each hook, with the versions they were asked to migrate from. */
interface Hooks {
  reading: number[];
  history: number[];
  byBucket: number[];
}

function fromCelsius(old: unknown): Kelvin {
  const { celsius } = old as Partial<Celsius>;
  if (typeof celsius !== "number") throw new TypeError(`not a celsius reading: ${JSON.stringify(old)}`);
  return toKelvin(celsius);
}

/** Version 2: on each key's first record it reports what it restored, then records kelvin. */
function version2(
  progress: { processed: number },
  hooks: Hooks,
  options: { readingMigrate?: (old: unknown) => Kelvin; sourceUid?: string; keys?: number } = {},
) {
  const { readingMigrate = fromCelsius, sourceUid = "source-v2", keys = V2_KEYS } = options;
  return defineJob("thermometers", (env) => {
    env
      .generate({ make: (i) => ({ key: `k${i % keys}`, i: V1_RECORDS + i }) })
      .uid(sourceUid)
      .filter((r) => r.i < V1_RECORDS + V2_RECORDS)
      .keyBy((r) => r.key)
      .process({
        state: {
          reading: valueState<Kelvin>({
            version: 2,
            migrate: (old, from) => {
              hooks.reading.push(from);
              return readingMigrate(old);
            },
          }),
          history: listState<Kelvin>({
            version: 2,
            migrate: (old, from) => {
              hooks.history.push(from);
              return fromCelsius(old);
            },
          }),
          byBucket: mapState<string, Kelvin>({
            version: 2,
            migrate: (old, from) => {
              hooks.byBucket.push(from);
              return fromCelsius(old);
            },
          }),
          reported: valueState<boolean>(),
        },
        processElement(r, ctx, out: Collector<Output>) {
          if (ctx.state.reported.value() !== true) {
            ctx.state.reported.update(true);
            out.collect(
              structuredClone({
                key: ctx.key as string,
                reading: ctx.state.reading.value(),
                history: ctx.state.history.get(),
                byBucket: ctx.state.byBucket.entries().sort(([a], [b]) => a.localeCompare(b)),
              }),
            );
          }
          const reading = toKelvin(celsiusAt(r.i));
          ctx.state.reading.update(reading);
          ctx.state.history.add(reading);
          ctx.state.byBucket.put(`b${r.i % 2}`, reading);
          progress.processed++;
        },
      })
      .uid("thermometer")
      .collect(outputs);
  });
}

/** What version 2 reports for a key it meets first: version 1's readings of the key, in kelvin. */
function expectedReport(key: string): Output {
  const indexes: number[] = [];
  for (let i = 0; i < V1_RECORDS; i++) if (`k${i % KEYS}` === key) indexes.push(i);
  const lastOf = (parity: number) => indexes.filter((i) => i % 2 === parity).at(-1) as number;
  return {
    key,
    reading: toKelvin(celsiusAt(indexes.at(-1) as number)),
    history: indexes.map((i) => toKelvin(celsiusAt(i))),
    byBucket: [0, 1].map((parity) => [`b${parity}`, toKelvin(celsiusAt(lastOf(parity)))] as [string, Kelvin]),
  };
}

const noHooks = (): Hooks => ({ reading: [], history: [], byBucket: [] });

describe("Migrating keyed state with a hook", () => {
  it("turns every stored celsius value into kelvin before the function sees it, and stores version 2", async () => {
    const runs = await SavepointRuns.open();
    try {
      const first = { processed: 0 };
      const { savepoint } = await runs.runToSavepoint(version1(first), () => first.processed, V1_RECORDS);

      const hooks = noHooks();
      const second = { processed: 0 };
      const { result, savepoint: second2 } = await runs.runToSavepoint(
        version2(second, hooks),
        () => second.processed,
        V2_RECORDS,
        savepoint,
      );
      // Eager and once per stored value: one reading per key, every list element, every map value.
      assert.deepEqual(hooks.reading, Array(KEYS).fill(1));
      assert.deepEqual(hooks.history, Array(V1_RECORDS).fill(1));
      assert.deepEqual(hooks.byBucket, Array(KEYS * 2).fill(1));

      const reports = result.get(outputs).sort((a, b) => a.key.localeCompare(b.key));
      assert.deepEqual(reports, ["k0", "k1", "k2"].map(expectedReport));

      // The next restore reads version 2 as stored: no hook runs, and keys the second run never
      // saw (k3, k4) hold the kelvin values the first restore migrated, not version 1's celsius.
      const description = await runs.store.describe(second2.id);
      assert.deepEqual(description.operators.thermometer?.stateVersions, {
        reading: 2,
        history: 2,
        byBucket: 2,
        reported: 1,
      });
      const hooksAgain = noHooks();
      const third = { processed: 0 };
      const again = await runs.runToSavepoint(
        version2(third, hooksAgain, { sourceUid: "source-v3", keys: KEYS }),
        () => third.processed,
        V2_RECORDS,
        second2,
      );
      assert.deepEqual(hooksAgain, noHooks());
      // The collect sink commits what the second run staged before its savepoint again on
      // restore (its two-phase contract): k0..k2's reports of the second run come back, k3 and
      // k4 report for the first time.
      const later = again.result
        .get(outputs)
        .filter((o) => o.key === "k3" || o.key === "k4")
        .sort((a, b) => a.key.localeCompare(b.key));
      assert.deepEqual(later, ["k3", "k4"].map(expectedReport));
    } finally {
      await runs.close();
    }
  });
});

describe("Restoring keyed state at a version the job cannot take", () => {
  /** Runs version 1 (its reading state at `version`) to a savepoint, then `next` from it; returns how `next` failed. */
  async function failure(
    version: number | undefined,
    next: () => ReturnType<typeof version2>,
  ): Promise<JobFailedError> {
    const runs = await SavepointRuns.open();
    try {
      const first = { processed: 0 };
      const { savepoint } = await runs.runToSavepoint(version1(first, version), () => first.processed, V1_RECORDS);
      let failed: unknown;
      await assert.rejects(runs.run(next(), savepoint), (error) => {
        failed = error;
        return true;
      });
      assert.ok(failed instanceof JobFailedError, String(failed));
      return failed;
    } finally {
      await runs.close();
    }
  }

  it("fails when the stored version is higher than the descriptor's, naming operator, state and versions", async () => {
    const error = await failure(3, () => version2({ processed: 0 }, noHooks()));
    assert.equal(error.reason.code, "STATE_VERSION_UNSUPPORTED");
    assert.match(
      error.message,
      /operator "thermometer": state "reading" was stored at version 3, the job declares version 2/,
    );
    assert.match(error.message, /a newer job wrote it/);
  });

  it("fails when the stored version is lower and the state has no migrate hook", async () => {
    const error = await failure(undefined, () => version1({ processed: 0 }, 2));
    assert.equal(error.reason.code, "STATE_VERSION_UNSUPPORTED");
    assert.match(
      error.message,
      /operator "thermometer": state "reading" was stored at version 1, the job declares version 2/,
    );
    assert.match(error.message, /no migrate hook/);
  });

  it("fails when a migrate hook throws, naming the state, the key and the hook's error", async () => {
    // k3's last reading (record 98) is the only one at 8 °C.
    const hooks = noHooks();
    const error = await failure(undefined, () =>
      version2({ processed: 0 }, hooks, {
        readingMigrate: (old) => {
          if ((old as Celsius).celsius === 8) throw new RangeError("sensor out of range");
          return fromCelsius(old);
        },
      }),
    );
    assert.equal(error.reason.code, "STATE_MIGRATION_FAILED");
    assert.match(
      error.message,
      /operator "thermometer": migrating state "reading" of key "?k3"? from version 1 to 2 failed: sensor out of range/,
    );
  });
});

describe("Restoring a checkpoint of store format 1", () => {
  it("takes every state as version 1: a version-2 job migrates it, and the store is upgraded to the current format", async () => {
    const runs = await SavepointRuns.open();
    try {
      const first = { processed: 0 };
      const { savepoint } = await runs.runToSavepoint(version1(first), () => first.processed, V1_RECORDS);
      // Rewrite the savepoint as format 1 wrote it: no state versions in its manifests.
      await runs.reopen((dir) =>
        withRawDb(dir, async (db) => {
          await db.put(FORMAT_KEY, encodeStoreRecord({ format: 1 }));
          await db.put(metadataKey(savepoint.id), encodeStoreRecord({ ...savepoint, format: 1 }));
          for (const uid of Object.keys(savepoint.operators)) {
            const key = manifestKey(savepoint.id, uid, 0);
            const { stateVersions, ...manifest } = decodeStoreRecord(await db.get(key)) as Record<string, unknown>;
            assert.ok(stateVersions !== undefined, "format 2 wrote state versions");
            await db.put(key, encodeStoreRecord(manifest));
          }
        }),
      );
      const old = runs.store.completed()[0];
      assert.equal(old?.format, 1);
      assert.equal(runs.store.restoreStateVersions(savepoint.id, "thermometer"), undefined);

      const hooks = noHooks();
      const second = { processed: 0 };
      const { result } = await runs.runToSavepoint(version2(second, hooks), () => second.processed, V2_RECORDS, old);
      assert.deepEqual(hooks.reading, Array(KEYS).fill(1));
      const reports = result.get(outputs).sort((a, b) => a.key.localeCompare(b.key));
      assert.deepEqual(reports, ["k0", "k1", "k2"].map(expectedReport));
      await runs.reopen(async (dir) => {
        await withRawDb(dir, async (db) => {
          assert.deepEqual(decodeStoreRecord(await db.get(FORMAT_KEY)), { format: STORE_FORMAT });
        });
      });
    } finally {
      await runs.close();
    }
  });
});
