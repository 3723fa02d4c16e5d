import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { execute, SimulatedClock } from "@keyflow/runtime";
import {
  type Attempt,
  driverStars,
  MAX_TRIES,
  PICKUP_TIMEOUT_MS,
  passengerStars,
  type RideOutcome,
  type RideScenario,
  rideScenario,
  rideSharingJob,
  rideSink,
} from "../../src/functions/ride-sharing.js";

interface SimRide {
  readonly id: string;
  readonly passenger: string;
  readonly cell: string;
  readonly tripMs: number;
  readonly requestedAt: number;
  tried: Attempt[];
  driver: string | null;
  pickedUpAt: number | null;
}

type Event =
  | { readonly at: number; readonly seq: number; readonly kind: "request"; readonly plan: number }
  | { readonly at: number; readonly seq: number; readonly kind: "arrive" | "timeout"; ride: SimRide; driver: string }
  | { readonly at: number; readonly seq: number; readonly kind: "dropOff"; ride: SimRide };

type Unsequenced = Event extends infer E ? (E extends Event ? Omit<E, "seq"> : never) : never;

/**
 * The afternoon as a plain discrete-event simulation in processing time: one loop over timed
 * events (planned requests, arrivals, pickup timeouts, drop-offs), each handled to the end before
 * the next, with each cell's pool of drivers and queue of waiting rides. Also returns every moment
 * something is due (the test moves the clock through them) and how often two events met at one
 * cell's dispatcher at the same moment — the only place where the order of concurrent messages
 * could change a result.
 */
function simulate({ drivers, plans }: RideScenario) {
  const events: Event[] = [];
  let seq = 0;
  const schedule = (event: Unsequenced) => events.push({ ...event, seq: seq++ } as Event);
  plans.forEach((plan, i) => {
    schedule({ at: plan.inMs, kind: "request", plan: i });
  });
  const fleet = new Map(drivers.map((d) => [d.driver, { ...d, offers: 0, pickups: 0 }]));
  const pools = new Map<string, Set<string>>();
  const waiting = new Map<string, SimRide[]>();
  for (const d of drivers) pools.set(d.cell, (pools.get(d.cell) ?? new Set()).add(d.driver));
  const requests = new Map<string, number>();
  const out: RideOutcome[] = [];
  const moments = new Set<number>();
  const touched = new Map<string, number>();
  let ties = 0;

  const unserved = (ride: SimRide) =>
    out.push({
      ride: ride.id,
      passenger: ride.passenger,
      cell: ride.cell,
      outcome: "unserved",
      requestedAt: ride.requestedAt,
      tried: ride.tried,
      driver: null,
      pickedUpAt: null,
      droppedOffAt: null,
      stars: null,
    });
  const enqueue = (ride: SimRide) => {
    if (ride.tried.length >= MAX_TRIES) unserved(ride);
    else waiting.set(ride.cell, [...(waiting.get(ride.cell) ?? []), ride]);
  };
  const dispatch = (cell: string, now: number) => {
    const pool = pools.get(cell) ?? new Set<string>();
    for (;;) {
      const queue = (waiting.get(cell) ?? []).sort((a, b) => a.requestedAt - b.requestedAt || (a.id < b.id ? -1 : 1));
      let match: [SimRide, string] | undefined;
      for (const ride of queue) {
        const id = [...pool].sort().find((d) => !ride.tried.some((a) => a.driver === d));
        if (id !== undefined) {
          match = [ride, id];
          break;
        }
      }
      if (match === undefined) return;
      const [ride, id] = match;
      waiting.set(
        cell,
        queue.filter((r) => r !== ride),
      );
      pool.delete(id);
      const d = fleet.get(id);
      if (d === undefined) throw new Error(id);
      d.offers++;
      if (d.profile.declineEvery > 0 && d.offers % d.profile.declineEvery === 0) {
        pool.add(id);
        ride.tried = [...ride.tried, { driver: id, outcome: "declined" }];
        enqueue(ride);
        continue;
      }
      const travel = d.profile.travelMs[d.pickups % d.profile.travelMs.length] ?? 0;
      d.pickups++;
      ride.driver = id;
      schedule({ at: now + travel, kind: "arrive", ride, driver: id });
      schedule({ at: now + PICKUP_TIMEOUT_MS, kind: "timeout", ride, driver: id });
    }
  };
  const touch = (cell: string, now: number) => {
    const key = `${cell}@${now}`;
    if (touched.has(key)) ties++;
    touched.set(key, 1);
  };

  for (;;) {
    events.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const event = events.shift();
    if (event === undefined) break;
    const now = event.at;
    moments.add(now);
    if (event.kind === "request") {
      const plan = plans[event.plan];
      if (plan === undefined) throw new Error(`plan ${event.plan}`);
      const n = (requests.get(plan.passenger) ?? 0) + 1;
      requests.set(plan.passenger, n);
      const ride: SimRide = {
        id: `${plan.passenger}/${n}`,
        passenger: plan.passenger,
        cell: plan.cell,
        tripMs: plan.tripMs,
        requestedAt: now,
        tried: [],
        driver: null,
        pickedUpAt: null,
      };
      touch(ride.cell, now);
      enqueue(ride);
      dispatch(ride.cell, now);
    } else if (event.kind === "arrive") {
      const { ride } = event;
      if (ride.driver !== event.driver || ride.pickedUpAt !== null) continue;
      ride.pickedUpAt = now;
      schedule({ at: now + ride.tripMs, kind: "dropOff", ride });
    } else if (event.kind === "timeout") {
      const { ride } = event;
      if (ride.driver !== event.driver || ride.pickedUpAt !== null) continue;
      touch(ride.cell, now);
      ride.tried = [...ride.tried, { driver: event.driver, outcome: "noShow" }];
      ride.driver = null;
      pools.get(ride.cell)?.add(event.driver);
      enqueue(ride);
      dispatch(ride.cell, now);
    } else {
      const { ride } = event;
      touch(ride.cell, now);
      const pickedUpAt = ride.pickedUpAt ?? 0;
      out.push({
        ride: ride.id,
        passenger: ride.passenger,
        cell: ride.cell,
        outcome: "completed",
        requestedAt: ride.requestedAt,
        tried: ride.tried,
        driver: ride.driver,
        pickedUpAt,
        droppedOffAt: now,
        stars: { passenger: passengerStars(pickedUpAt - ride.requestedAt), driver: driverStars(ride.tripMs) },
      });
      if (ride.driver !== null) pools.get(ride.cell)?.add(ride.driver);
      dispatch(ride.cell, now);
    }
  }
  return { rides: out.map((r) => JSON.stringify(r)).sort(), moments: [...moments].sort((a, b) => a - b), ties };
}

const settle = async (turns: number) => {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe("ride sharing (four function types messaging each other)", () => {
  const scenario = rideScenario({ seed: 3, rides: 60, spanMs: 20_000 });
  const expected = simulate(scenario);
  const outcomes = expected.rides.map((line) => JSON.parse(line) as RideOutcome);

  it("has a seed with declines, pickup timeouts, an unserved ride and no two events at one dispatcher at once", () => {
    assert.equal(expected.ties, 0);
    assert.equal(outcomes.length, 60);
    const tried = outcomes.flatMap((r) => (r.outcome === "completed" ? r.tried : []));
    assert.ok(tried.filter((a) => a.outcome === "declined").length >= 3, "declined, then served by another driver");
    assert.ok(tried.filter((a) => a.outcome === "noShow").length >= 3, "timed out, then served by another driver");
    assert.ok(outcomes.some((r) => r.outcome === "unserved"));
  });

  for (const parallelism of [1, 3]) {
    it(`completes the rides a plain simulation does, at parallelism ${parallelism}`, async () => {
      const clock = new SimulatedClock(0);
      let done = false;
      const run = execute(rideSharingJob({ scenario, print: false, parallelism }), {
        parallelism,
        workers: 0,
        clock,
      }).finally(() => {
        done = true;
      });
      // Plans and drivers in at time 0; then the clock visits every moment something is due and
      // lets each moment's messages run to the end before the next.
      await settle(50);
      for (const moment of expected.moments) {
        clock.advance(moment - clock.now());
        await settle(30);
      }
      for (let step = 0; step < 100 && !done; step++) {
        clock.advance(1_000);
        await settle(30);
      }
      const result = await run;
      assert.deepEqual(
        result
          .get(rideSink)
          .map((r) => JSON.stringify(r))
          .sort(),
        expected.rides,
      );
    });
  }
});
