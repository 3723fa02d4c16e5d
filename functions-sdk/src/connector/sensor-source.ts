import { SeededRandom } from "../util/random.js";
import type { PollResult, Source, SourceOutput, SourceReader, SourceReaderContext } from "./source.js";
import { SplitReader } from "./split-reader.js";

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
      const restored = context.restoredSplits as SensorSplitPosition[] | undefined;
      let splits: SensorSplit[];
      if (restored !== undefined) {
        splits = restored.map((p) => ({
          round: p.round,
          next: p.next,
          walks: p.walks.map((w) => ({ id: w.id, random: SeededRandom.restore(w.random), temperature: w.temperature })),
        }));
      } else {
        const mine: number[] = [];
        for (let s = context.shardIndex; s < sensors; s += context.parallelism) mine.push(s);
        // One generator per sensor keeps each walk independent of how sensors are spread over readers.
        const walks = mine.map((s) => ({
          id: `sensor_${s + 1}`,
          random: new SeededRandom(Math.imul(seed, 7919) + Math.imul(s + 1, 104729)),
          temperature: 65,
        }));
        splits = walks.length === 0 ? [] : [{ round: 0, next: 0, walks }];
      }
      const startedAt = context.now();
      return new SplitReader<SensorReading, SensorSplit>(
        splits,
        (split, output: SourceOutput<SensorReading>, max: number): PollResult => {
          const walks = split.walks;
          let budget = max;
          while (budget > 0 && split.round < rounds) {
            if (roundsPerSecond !== undefined && split.next === 0) {
              const dueAt = startedAt + (split.round * 1000) / roundsPerSecond;
              const wait = dueAt - context.now();
              if (wait > 0) return context.sleep(wait);
            }
            const walk = walks[split.next] as SensorWalk;
            walk.temperature += walk.random.nextGaussian() * 0.5;
            const timestamp = startTime + split.round * intervalMs;
            output.collect(
              { id: walk.id, timestamp, temperature: Math.round(walk.temperature * 100) / 100 },
              timestamp,
            );
            budget--;
            if (++split.next === walks.length) {
              split.next = 0;
              split.round++;
            }
          }
          return split.round < rounds ? "more" : "end";
        },
        (split): SensorSplitPosition => ({
          round: split.round,
          next: split.next,
          walks: split.walks.map((w) => ({ id: w.id, random: w.random.snapshot(), temperature: w.temperature })),
        }),
      );
    },
  };
}

interface SensorWalk {
  readonly id: string;
  readonly random: SeededRandom;
  temperature: number;
}

/** The sensors of one reader, walked round by round: `next` is the sensor due in `round`. */
interface SensorSplit {
  round: number;
  next: number;
  readonly walks: SensorWalk[];
}

interface SensorSplitPosition {
  readonly round: number;
  readonly next: number;
  readonly walks: ReadonlyArray<{ readonly id: string; readonly random: number; readonly temperature: number }>;
}
