import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type SensorReading, sensorSource } from "@keyflow/functions-sdk";
import { execute } from "@keyflow/runtime";
import {
  average,
  type Difference,
  differences,
  INDOOR,
  LOOKBACK_MS,
  OUTDOOR,
  type SecondSummary,
  sensorCoGroups,
  sensorJoins,
  summaries,
} from "../../src/joins/sensor-joins.js";
import { multiset, readSource } from "../helpers.js";

const indoor = await readSource(sensorSource(INDOOR));
const outdoor = await readSource(sensorSource(OUTDOOR));

/** Every indoor reading with every outdoor reading of its sensor taken up to LOOKBACK_MS before it. */
const expectedDifferences: Difference[] = indoor.flatMap((i) =>
  outdoor
    .filter((o) => o.id === i.id && o.timestamp >= i.timestamp - LOOKBACK_MS && o.timestamp <= i.timestamp)
    .map((o) => ({
      id: i.id,
      indoorAt: i.timestamp,
      outdoorAt: o.timestamp,
      warmerInside: Math.round((i.temperature - o.temperature) * 100) / 100,
    })),
);

/** Per sensor and second with readings on either side, each side's average. */
function expectedSummaries(): SecondSummary[] {
  const groups = new Map<string, { ins: SensorReading[]; outs: SensorReading[] }>();
  const add = (r: SensorReading, side: "ins" | "outs") => {
    const id = `${r.id}@${Math.floor(r.timestamp / 1_000)}`;
    const group = groups.get(id) ?? { ins: [], outs: [] };
    group[side].push(r);
    groups.set(id, group);
  };
  for (const r of indoor) add(r, "ins");
  for (const r of outdoor) add(r, "outs");
  return [...groups].map(([id, g]) => ({
    id: id.split("@")[0] as string,
    second: Number(id.split("@")[1]) * 1_000,
    indoor: average(g.ins),
    outdoor: average(g.outs),
  }));
}

describe("sensor joins", () => {
  it("has data where every indoor reading from the first outdoor one on meets exactly one outdoor reading", () => {
    // Outdoor readings are 250 ms apart, at 1040 + 250k ms: indoor readings at 1100 … 4900 (39 per sensor) meet one each.
    assert.equal(indoor.length, 200);
    assert.equal(expectedDifferences.length, 4 * 39);
  });

  for (const parallelism of [1, 2]) {
    it(`interval-joins each indoor reading with the outdoor readings of its sensor in the lookback, at parallelism ${parallelism}`, async () => {
      const result = await execute(sensorJoins({ print: false }), { parallelism });
      assert.deepEqual(multiset(result.get(differences)), multiset(expectedDifferences));
    });
  }

  it("gives the same pairs when the job module runs on worker threads", async () => {
    const module = new URL("../../src/joins/sensor-joins.js", import.meta.url);
    const result = await execute(module, { parallelism: 2, workers: 2 });
    assert.deepEqual(multiset(result.get(differences)), multiset(expectedDifferences));
  });

  it("coGroups both sides per sensor and second, also seconds with readings of one side", async () => {
    const want = expectedSummaries();
    assert.ok(want.some((s) => s.outdoor === undefined) && want.some((s) => s.indoor === undefined));
    const result = await execute(sensorCoGroups({ print: false }), { parallelism: 2 });
    assert.deepEqual(multiset(result.get(summaries)), multiset(want));
  });
});
