/**
 * Ride sharing: four function types messaging each other with typed addresses.
 *
 * - A `passenger` plans a ride (ingress); at the planned moment (a delayed message to itself) it
 *   starts a `ride` function for the trip.
 * - The `ride` asks its cell's `dispatcher` for a driver, carrying its own address (the reply
 *   address) in the order it sends.
 * - The `dispatcher` (one per geo cell) keeps the cell's available drivers and waiting orders,
 *   and offers one order at a time to a driver (request/reply: the offer carries the dispatcher's
 *   address, the driver replies to it). A driver that declines goes back to the pool and the order
 *   is offered to another driver; an accepted order is handed to the ride.
 * - The `driver` accepts or declines (its profile: it declines every n-th offer), and on
 *   accepting schedules its arrival at the pickup (a delayed message to the ride).
 * - The ride waits for the driver with a pickup timeout (`sendAfter`, cancelled with `ctx.cancel`
 *   when the driver arrives). On a timeout it cancels the driver (who cancels its own scheduled
 *   arrival) and asks the dispatcher again, without that driver. After the trip (another delayed
 *   message) it asks passenger and driver for ratings (fan-out) and, with both replies (back),
 *   emits the ride on the `rides` egress; the driver rejoins its cell's pool. After `MAX_TRIES`
 *   drivers declined or did not show, the ride is given up ("unserved").
 *
 * Run it: `npm run keyflow -- run examples/dist/src/functions/ride-sharing.js --workers 0` (about
 * 12 s of planned rides on the wall clock).
 */
import {
  type Address,
  type CancellationToken,
  collectSink,
  defineFunction,
  defineJob,
  egress,
  type FunctionType,
  type MapStateDescriptor,
  mapState,
  SeededRandom,
  type ValueStateDescriptor,
  valueState,
} from "@keyflow/functions-sdk";

/** How long a ride waits for its driver after the driver accepted. */
export const PICKUP_TIMEOUT_MS = 1_000;
/** Drivers a ride may go through (declined or no-show) before it is given up. */
export const MAX_TRIES = 3;

/** A driver the order went to that did not take it. */
export interface Attempt {
  readonly driver: string;
  readonly outcome: "declined" | "noShow";
}

/** What a ride asks its dispatcher for; travels dispatcher -> driver -> dispatcher -> ride. */
export interface Order {
  /** The reply address: where the dispatcher sends the driver (or "unserved"). */
  readonly ride: Address<RideMessage>;
  readonly requestedAt: number;
  /** Drivers that did not take it, in order: none of them is offered it again. */
  readonly tried: readonly Attempt[];
}

export type PassengerMessage =
  | { readonly kind: "plan"; readonly cell: string; readonly inMs: number; readonly tripMs: number }
  | { readonly kind: "request"; readonly cell: string; readonly tripMs: number }
  | { readonly kind: "assigned"; readonly ride: string; readonly driver: string }
  | { readonly kind: "rate"; readonly ride: Address<RideMessage>; readonly waitedMs: number };

export type RideMessage =
  | {
      readonly kind: "start";
      readonly passenger: Address<PassengerMessage>;
      readonly cell: string;
      readonly tripMs: number;
    }
  | { readonly kind: "accepted"; readonly driver: Address<DriverMessage>; readonly order: Order }
  | { readonly kind: "unserved"; readonly order: Order }
  | { readonly kind: "arrived"; readonly driver: string }
  | { readonly kind: "pickupTimeout"; readonly driver: string }
  | { readonly kind: "droppedOff" }
  | { readonly kind: "rating"; readonly from: "passenger" | "driver"; readonly stars: number };

export type DispatcherMessage =
  | { readonly kind: "available"; readonly driver: Address<DriverMessage> }
  | { readonly kind: "request"; readonly order: Order }
  | { readonly kind: "noShow"; readonly driver: Address<DriverMessage>; readonly order: Order }
  | { readonly kind: "reply"; readonly driver: Address<DriverMessage>; readonly accepted: boolean };

/** How a driver behaves: declines every `declineEvery`-th offer (0: never); the n-th pickup takes `travelMs[n % length]`. */
export interface DriverProfile {
  readonly declineEvery: number;
  readonly travelMs: readonly number[];
}

export type DriverMessage =
  | { readonly kind: "online"; readonly cell: string; readonly profile: DriverProfile }
  | { readonly kind: "offer"; readonly order: Order; readonly replyTo: Address<DispatcherMessage> }
  | { readonly kind: "cancel"; readonly ride: string }
  | { readonly kind: "rate"; readonly ride: Address<RideMessage>; readonly tripMs: number };

/** A finished ride: completed (with its driver, times and ratings) or unserved. */
export interface RideOutcome {
  readonly ride: string;
  readonly passenger: string;
  readonly cell: string;
  readonly outcome: "completed" | "unserved";
  readonly requestedAt: number;
  readonly tried: readonly Attempt[];
  readonly driver: string | null;
  readonly pickedUpAt: number | null;
  readonly droppedOffAt: number | null;
  readonly stars: { readonly passenger: number; readonly driver: number } | null;
}

export const rides = egress<RideOutcome>("rides");

// --- passenger -----------------------------------------------------------------------------

const passengerState = {
  requested: valueState<number>(),
  /** The driver of the passenger's current ride, once assigned. */
  driver: valueState<string>(),
};

/** Stars a passenger gives: by how long they waited for the pickup. */
export const passengerStars = (waitedMs: number) => (waitedMs < 1_000 ? 5 : waitedMs < 2_500 ? 4 : 3);

export const passenger: FunctionType<PassengerMessage, typeof passengerState> = defineFunction({
  type: "rides/passenger",
  state: passengerState,
  handle(ctx, message: PassengerMessage) {
    switch (message.kind) {
      case "plan":
        ctx.sendAfter(message.inMs, ctx.self, { kind: "request", cell: message.cell, tripMs: message.tripMs });
        return;
      case "request": {
        const n = (ctx.state.requested.value() ?? 0) + 1;
        ctx.state.requested.update(n);
        const start = { kind: "start", passenger: ctx.self, cell: message.cell, tripMs: message.tripMs } as const;
        ctx.send(ride.address(`${ctx.self.id}/${n}`), start);
        return;
      }
      case "assigned":
        ctx.state.driver.update(message.driver);
        return;
      case "rate":
        ctx.state.driver.clear();
        ctx.send(message.ride, { kind: "rating", from: "passenger", stars: passengerStars(message.waitedMs) });
        return;
    }
  },
});

// --- ride ----------------------------------------------------------------------------------

interface RideState {
  readonly passenger: Address<PassengerMessage>;
  readonly cell: string;
  readonly tripMs: number;
  readonly requestedAt: number;
  readonly tried: readonly Attempt[];
  readonly driver: Address<DriverMessage> | null;
  /** The pickup timeout while the driver is on the way. */
  readonly pickupTimer: CancellationToken | null;
  readonly pickedUpAt: number | null;
  readonly droppedOffAt: number | null;
  readonly stars: { readonly passenger?: number; readonly driver?: number };
}

const rideState = { ride: valueState<RideState>() };

export const ride: FunctionType<RideMessage, typeof rideState> = defineFunction({
  type: "rides/ride",
  state: rideState,
  handle(ctx, message: RideMessage) {
    const state = ctx.state.ride.value();
    if (message.kind === "start") {
      if (state !== undefined) return; // started once
      const requestedAt = ctx.currentProcessingTime();
      ctx.state.ride.update({
        passenger: message.passenger,
        cell: message.cell,
        tripMs: message.tripMs,
        requestedAt,
        tried: [],
        driver: null,
        pickupTimer: null,
        pickedUpAt: null,
        droppedOffAt: null,
        stars: {},
      });
      ctx.send(dispatcher.address(message.cell), {
        kind: "request",
        order: { ride: ctx.self, requestedAt, tried: [] },
      });
      return;
    }
    if (state === undefined) throw new Error(`ride ${ctx.self.id} got ${message.kind} before it started`);
    const finish = (outcome: RideOutcome["outcome"], next: RideState) =>
      ctx.egress(rides, {
        ride: ctx.self.id,
        passenger: next.passenger.id,
        cell: next.cell,
        outcome,
        requestedAt: next.requestedAt,
        tried: next.tried,
        driver: outcome === "completed" ? (next.driver?.id ?? null) : null,
        pickedUpAt: next.pickedUpAt,
        droppedOffAt: next.droppedOffAt,
        stars:
          next.stars.passenger !== undefined && next.stars.driver !== undefined
            ? { passenger: next.stars.passenger, driver: next.stars.driver }
            : null,
      });
    switch (message.kind) {
      case "accepted": {
        const pickupTimer = ctx.sendAfter(PICKUP_TIMEOUT_MS, ctx.self, {
          kind: "pickupTimeout",
          driver: message.driver.id,
        });
        ctx.state.ride.update({ ...state, driver: message.driver, tried: message.order.tried, pickupTimer });
        ctx.send(state.passenger, { kind: "assigned", ride: ctx.self.id, driver: message.driver.id });
        return;
      }
      case "unserved":
        finish("unserved", { ...state, tried: message.order.tried });
        return;
      case "pickupTimeout": {
        // A timeout the arrival did not cancel in time (or a stale one) does nothing.
        if (state.driver?.id !== message.driver || state.pickedUpAt !== null) return;
        const tried = [...state.tried, { driver: message.driver, outcome: "noShow" as const }];
        ctx.state.ride.update({ ...state, driver: null, pickupTimer: null, tried });
        ctx.send(state.driver, { kind: "cancel", ride: ctx.self.id });
        const order = { ride: ctx.self, requestedAt: state.requestedAt, tried };
        ctx.send(dispatcher.address(state.cell), { kind: "noShow", driver: state.driver, order });
        return;
      }
      case "arrived": {
        if (state.driver?.id !== message.driver || state.pickedUpAt !== null) return;
        if (state.pickupTimer !== null) ctx.cancel(state.pickupTimer);
        ctx.state.ride.update({ ...state, pickupTimer: null, pickedUpAt: ctx.currentProcessingTime() });
        ctx.sendAfter(state.tripMs, ctx.self, { kind: "droppedOff" });
        return;
      }
      case "droppedOff": {
        if (state.driver === null || state.pickedUpAt === null) return;
        ctx.state.ride.update({ ...state, droppedOffAt: ctx.currentProcessingTime() });
        // Fan out for ratings; both replies come back as "rating".
        ctx.send(state.passenger, { kind: "rate", ride: ctx.self, waitedMs: state.pickedUpAt - state.requestedAt });
        ctx.send(state.driver, { kind: "rate", ride: ctx.self, tripMs: state.tripMs });
        return;
      }
      case "rating": {
        const next = { ...state, stars: { ...state.stars, [message.from]: message.stars } };
        ctx.state.ride.update(next);
        if (next.stars.passenger !== undefined && next.stars.driver !== undefined) finish("completed", next);
        return;
      }
    }
  },
});

// --- dispatcher ----------------------------------------------------------------------------

const dispatcherState: {
  readonly pool: MapStateDescriptor<string, Address<DriverMessage>>;
  readonly waiting: ValueStateDescriptor<readonly Order[]>;
  readonly offering: ValueStateDescriptor<Order>;
} = {
  /** Available drivers by id. */
  pool: mapState<string, Address<DriverMessage>>(),
  /** Orders waiting for a driver. */
  waiting: valueState<readonly Order[]>(),
  /** The order offered to a driver whose reply has not come yet: one at a time per cell. */
  offering: valueState<Order>(),
};

/** Waiting orders are served first come, first served (then by ride id). */
export const byRequest = (a: Order, b: Order) =>
  a.requestedAt - b.requestedAt || (a.ride.id < b.ride.id ? -1 : a.ride.id > b.ride.id ? 1 : 0);

export const dispatcher: FunctionType<DispatcherMessage, typeof dispatcherState> = defineFunction({
  type: "rides/dispatcher",
  state: dispatcherState,
  handle(ctx, message: DispatcherMessage) {
    const { pool, waiting, offering } = ctx.state;
    const queue = (order: Order) => {
      if (order.tried.length >= MAX_TRIES) ctx.send(order.ride, { kind: "unserved", order });
      else waiting.update([...(waiting.value() ?? []), order]);
    };
    switch (message.kind) {
      case "available":
        pool.put(message.driver.id, message.driver);
        break;
      case "request":
        queue(message.order);
        break;
      case "noShow":
        pool.put(message.driver.id, message.driver);
        queue(message.order);
        break;
      case "reply": {
        const order = offering.value();
        offering.clear();
        if (order === undefined) break;
        if (message.accepted) {
          ctx.send(order.ride, { kind: "accepted", driver: message.driver, order });
        } else {
          pool.put(message.driver.id, message.driver);
          queue({ ...order, tried: [...order.tried, { driver: message.driver.id, outcome: "declined" }] });
        }
        break;
      }
    }
    // Offer the first waiting order that an available driver may take, to the first such driver.
    if (offering.value() !== undefined) return;
    const orders = [...(waiting.value() ?? [])].sort(byRequest);
    const drivers = pool.keys().sort();
    for (const order of orders) {
      const driver = drivers.find((id) => !order.tried.some((a) => a.driver === id));
      if (driver === undefined) continue;
      const to = pool.get(driver) as Address<DriverMessage>;
      pool.remove(driver);
      waiting.update(orders.filter((o) => o !== order));
      offering.update(order);
      ctx.send(to, { kind: "offer", order, replyTo: ctx.self });
      return;
    }
  },
});

// --- driver --------------------------------------------------------------------------------

interface DriverState {
  readonly cell: string;
  readonly profile: DriverProfile;
  readonly offers: number;
  readonly pickups: number;
  /** The ride it drives to (or drives), and its scheduled arrival there. */
  readonly ride: string | null;
  readonly arrival: CancellationToken | null;
}

const driverState = { driver: valueState<DriverState>() };

/** Stars a driver gives: long trips are good trips. */
export const driverStars = (tripMs: number) => (tripMs >= 2_000 ? 5 : 4);

export const driver: FunctionType<DriverMessage, typeof driverState> = defineFunction({
  type: "rides/driver",
  state: driverState,
  handle(ctx, message: DriverMessage) {
    if (message.kind === "online") {
      ctx.state.driver.update({
        cell: message.cell,
        profile: message.profile,
        offers: 0,
        pickups: 0,
        ride: null,
        arrival: null,
      });
      ctx.send(dispatcher.address(message.cell), { kind: "available", driver: ctx.self });
      return;
    }
    const state = ctx.state.driver.value();
    if (state === undefined) throw new Error(`driver ${ctx.self.id} got ${message.kind} before going online`);
    switch (message.kind) {
      case "offer": {
        const offers = state.offers + 1;
        const { declineEvery, travelMs } = state.profile;
        if (declineEvery > 0 && offers % declineEvery === 0) {
          ctx.state.driver.update({ ...state, offers });
          ctx.send(message.replyTo, { kind: "reply", driver: ctx.self, accepted: false });
          return;
        }
        // A ride that timed out on this driver may not have told it yet: drop that arrival.
        if (state.arrival !== null) ctx.cancel(state.arrival);
        const travel = travelMs[state.pickups % travelMs.length] ?? 0;
        const arrival = ctx.sendAfter(travel, message.order.ride, { kind: "arrived", driver: ctx.self.id });
        ctx.state.driver.update({ ...state, offers, pickups: state.pickups + 1, ride: message.order.ride.id, arrival });
        ctx.send(message.replyTo, { kind: "reply", driver: ctx.self, accepted: true });
        return;
      }
      case "cancel":
        if (state.ride !== message.ride) return; // already on another ride
        if (state.arrival !== null) ctx.cancel(state.arrival);
        ctx.state.driver.update({ ...state, ride: null, arrival: null });
        return;
      case "rate":
        ctx.state.driver.update({ ...state, ride: null, arrival: null });
        ctx.send(message.ride, { kind: "rating", from: "driver", stars: driverStars(message.tripMs) });
        ctx.send(dispatcher.address(state.cell), { kind: "available", driver: ctx.self });
        return;
    }
  },
});

// --- the job -------------------------------------------------------------------------------

export interface DriverShift {
  readonly driver: string;
  readonly cell: string;
  readonly profile: DriverProfile;
}

/** A passenger's ride: requested `inMs` after the job starts, lasting `tripMs` once picked up. */
export interface RidePlan {
  readonly passenger: string;
  readonly cell: string;
  readonly inMs: number;
  readonly tripMs: number;
}

export interface RideScenario {
  readonly drivers: readonly DriverShift[];
  readonly plans: readonly RidePlan[];
}

/**
 * A seeded afternoon: `drivers` drivers per cell with seeded profiles (some decline every 2nd
 * or 3rd offer, some are slow to arrive: a 1.5 s pickup, past the 1 s timeout), and `rides` rides
 * by `passengers` passengers planned over `spanMs`, each 200 ms to 2.5 s long.
 */
export function rideScenario(
  options: {
    seed?: number;
    cells?: number;
    drivers?: number;
    passengers?: number;
    rides?: number;
    spanMs?: number;
  } = {},
): RideScenario {
  const { seed = 3, cells = 3, drivers: perCell = 3, passengers = 12, rides: count = 30, spanMs = 8_000 } = options;
  const random = new SeededRandom(seed);
  const cellIds = Array.from({ length: cells }, (_, c) => `cell-${String.fromCharCode(97 + c)}`);
  const drivers: DriverShift[] = [];
  for (const cell of cellIds) {
    for (let d = 0; d < perCell; d++) {
      const travelMs = Array.from({ length: 3 }, () => [200, 400, 700, 1_500][random.nextInt(4)] ?? 200);
      const declineEvery = [0, 0, 2, 3][random.nextInt(4)] ?? 0;
      drivers.push({ driver: `driver-${drivers.length + 1}`, cell, profile: { declineEvery, travelMs } });
    }
  }
  const plans: RidePlan[] = Array.from({ length: count }, () => ({
    passenger: `passenger-${random.nextInt(passengers) + 1}`,
    cell: cellIds[random.nextInt(cells)] as string,
    inMs: 100 + random.nextInt(spanMs),
    tripMs: 200 + random.nextInt(2_300),
  }));
  return { drivers, plans };
}

export const rideSink = collectSink<RideOutcome>("rides");

const seconds = (ms: number) => `${(ms / 1_000).toFixed(1)} s`;

/** A ride as a line: who drove, who did not, how long it took, the ratings. */
export function describeRide(r: RideOutcome): string {
  const tried = r.tried.map((a) => `${a.driver} ${a.outcome === "declined" ? "declined" : "did not show"}`);
  const before = tried.length > 0 ? ` (${tried.join(", ")})` : "";
  if (r.outcome === "unserved") return `${r.ride} in ${r.cell}: no driver${before}`;
  const waited = (r.pickedUpAt ?? 0) - r.requestedAt;
  const trip = (r.droppedOffAt ?? 0) - (r.pickedUpAt ?? 0);
  const stars =
    r.stars === null ? "" : `; rated ${r.stars.passenger}★ by the passenger, ${r.stars.driver}★ by the driver`;
  return `${r.ride} in ${r.cell}: ${r.driver}${before}, waited ${seconds(waited)}, trip ${seconds(trip)}${stars}`;
}

export function rideSharingJob(options: { scenario?: RideScenario; print?: boolean; parallelism?: number } = {}) {
  const { drivers, plans } = options.scenario ?? rideScenario();
  return defineJob("ride-sharing", (env) => {
    const functions = env
      .fromCollection([...plans], "Plans")
      .toFunctions({
        functions: [passenger, ride, dispatcher, driver],
        route: (plan) => ({
          to: passenger.address(plan.passenger),
          message: { kind: "plan", cell: plan.cell, inMs: plan.inMs, tripMs: plan.tripMs },
        }),
      })
      .uid("rides");
    functions.ingress(env.fromCollection([...drivers], "Drivers"), (shift) => ({
      to: driver.address(shift.driver),
      message: { kind: "online", cell: shift.cell, profile: shift.profile },
    }));
    if (options.parallelism !== undefined) functions.setParallelism(options.parallelism);
    const finished = functions.egress(rides);
    if (options.print ?? true) finished.map(describeRide).print();
    finished.collect(rideSink);
  });
}

export default rideSharingJob();
