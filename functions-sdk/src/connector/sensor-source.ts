import { SeededRandom } from "../util/random.js";
import type { PollResult, Source, SourceOutput, SourceReader, SourceReaderContext } from "./source.js";

/** A temperature reading, as in the book's examples. */
export interface SensorReading {
  readonly id: string;
  /** Event time in ms. */
  readonly timestamp: number;
  /** Degrees Fahrenheit, as in the book. */
  readonly temperature: number;
}

export interface SensorSourceOptions {
  /** Number of sensors: sensor_1 … sensor_N. Default 10. */
  readonly sensors?: number;
  /** Readings per sensor; unset for an unbounded source. */
  readonly readingsPerSensor?: number;
  /** Event time between two readings of one sensor, in ms. Default 100. */
  readonly intervalMs?: number;
  /** Event time of the first reading. Default 0, so results are the same in every run. */
  readonly startTime?: number;
  /** Seed of the random walk. Default 42. */
  readonly seed?: number;
  /** Rounds of readings per second (each round is one reading of every sensor); unset for as fast as possible. */
  readonly roundsPerSecond?: number;
}

/**
 * The book's SensorSource: each reader owns the sensors whose number modulo parallelism is its
 * index, and every `intervalMs` of event time emits one reading per sensor, its temperature a
 * seeded random walk around 65 °F. Deterministic for a given seed and parallelism-independent.
 */
export function sensorSource(options: SensorSourceOptions = {}): Source<SensorReading> {
  const sensors = options.sensors ?? 10;
  const rounds = options.readingsPerSensor ?? Number.POSITIVE_INFINITY;
  const intervalMs = options.intervalMs ?? 100;
  const startTime = options.startTime ?? 0;
  const seed = options.seed ?? 42;
  const roundsPerSecond = options.roundsPerSecond;
  if (!(sensors >= 1)) throw new RangeError(`sensorSource needs at least one sensor, got ${sensors}`);
  return {
    createReader(context: SourceReaderContext): SourceReader<SensorReading> {
      const mine: number[] = [];
      for (let s = context.shardIndex; s < sensors; s += context.parallelism) mine.push(s);
      // One generator per sensor keeps each walk independent of how sensors are spread over readers.
      const walks = mine.map((s) => ({
        id: `sensor_${s + 1}`,
        random: new SeededRandom(Math.imul(seed, 7919) + Math.imul(s + 1, 104729)),
        temperature: 65,
      }));
      let round = 0;
      let next = 0;
      const startedAt = context.now();
      return {
        poll(output: SourceOutput<SensorReading>, max: number): PollResult {
          if (walks.length === 0) return "end";
          let budget = max;
          while (budget > 0 && round < rounds) {
            if (roundsPerSecond !== undefined && next === 0) {
              const dueAt = startedAt + (round * 1000) / roundsPerSecond;
              const wait = dueAt - context.now();
              if (wait > 0) return context.sleep(wait);
            }
            const walk = walks[next] as (typeof walks)[number];
            walk.temperature += walk.random.nextGaussian() * 0.5;
            const timestamp = startTime + round * intervalMs;
            output.collect(
              { id: walk.id, timestamp, temperature: Math.round(walk.temperature * 100) / 100 },
              timestamp,
            );
            budget--;
            if (++next === walks.length) {
              next = 0;
              round++;
            }
          }
          return round < rounds ? "more" : "end";
        },
      };
    },
  };
}
