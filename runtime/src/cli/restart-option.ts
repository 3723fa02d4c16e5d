import { InvalidArgumentError } from "commander";
import type { RestartStrategy } from "../coordinator/restart-strategy.js";

/**
 * Parses `--restart`: `none`, `fixed-delay:<attempts>:<delay ms>`,
 * `failure-rate:<max failures>:<interval ms>:<delay ms>`, or
 * `exponential:<initial ms>:<max ms>`. A bad value names what is wrong.
 */
export function parseRestart(value: string): RestartStrategy {
  const [kind, ...parts] = value.split(":");
  const numbers = parts.map((part) => {
    const n = Number(part);
    if (part === "" || !Number.isFinite(n) || n < 0) {
      throw new InvalidArgumentError(`"${part}" in "${value}" is not a number of 0 or more`);
    }
    return n;
  });
  const expect = (count: number, form: string): void => {
    if (numbers.length !== count) throw new InvalidArgumentError(`"${value}": expected ${form}`);
  };
  switch (kind) {
    case "none":
      expect(0, "none");
      return { kind: "none" };
    case "fixed-delay":
      expect(2, "fixed-delay:<attempts>:<delay ms>");
      return { kind: "fixedDelay", attempts: numbers[0] as number, delayMs: numbers[1] as number };
    case "failure-rate":
      expect(3, "failure-rate:<max failures>:<interval ms>:<delay ms>");
      return {
        kind: "failureRate",
        maxFailures: numbers[0] as number,
        intervalMs: numbers[1] as number,
        delayMs: numbers[2] as number,
      };
    case "exponential":
      expect(2, "exponential:<initial ms>:<max ms>");
      return { kind: "exponentialDelay", initialDelayMs: numbers[0] as number, maxDelayMs: numbers[1] as number };
    default:
      throw new InvalidArgumentError(
        `unknown restart strategy "${kind}"; use none, fixed-delay:<attempts>:<delay ms>, failure-rate:<max failures>:<interval ms>:<delay ms> or exponential:<initial ms>:<max ms>`,
      );
  }
}
