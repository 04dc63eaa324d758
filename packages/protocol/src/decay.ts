import type { DeviceClass } from "./devices.ts";
import { nonNegative, unitInterval } from "./validate.ts";

/**
 * Time decay of rig rewards (docs/protocol.md §Time decay), §3.2:
 * "Reward = Base reward × e^(−0.03t) (t = number of operating days)".
 *
 * t counts the days of the current continuous run: a run ends only after the rig has been idle
 * for `restResetDays`, so a rig cannot reset its decay by dropping off for a moment. A floor keeps
 * the factor in (0, 1] (e^(−0.03t) underflows to 0 after ~25,000 days) and keeps a long-running
 * rig paid something for the low-value work it is still allowed to do.
 */
export interface DecayParams {
  /** §3.2's 0.03 per day. */
  readonly lambdaPerDay: number;
  /** Lower bound of the factor. */
  readonly floor: number;
  /** Idle days after which a rig's next work starts a new run. */
  readonly restResetDays: number;
}

export const DEFAULT_DECAY_PARAMS: DecayParams = {
  lambdaPerDay: 0.03,
  floor: 0.01,
  restResetDays: 7,
};

export const MS_PER_DAY = 86_400_000;

/** e^(−λt) floored, in (0, 1]. Only rigs decay; every other class gets 1. */
export function decayFactor(
  deviceClass: DeviceClass,
  operatingDays: number,
  params: DecayParams = DEFAULT_DECAY_PARAMS,
): number {
  nonNegative("operatingDays", operatingDays);
  if (deviceClass !== "rig") return 1;
  const floor = unitInterval("floor", params.floor);
  return Math.max(
    Math.exp(-nonNegative("lambdaPerDay", params.lambdaPerDay) * operatingDays),
    floor,
  );
}

export interface RunState {
  /** When the current continuous run began. */
  readonly runStartMs: number;
  /** When the device last did work. */
  readonly lastActiveMs: number;
}

/** The run after activity at `nowMs`: continues, or restarts after a long enough rest. */
export function advanceRun(
  previous: RunState | undefined,
  nowMs: number,
  params: DecayParams = DEFAULT_DECAY_PARAMS,
): RunState {
  nonNegative("nowMs", nowMs);
  if (previous === undefined) return { runStartMs: nowMs, lastActiveMs: nowMs };
  const idleMs = Math.max(0, nowMs - previous.lastActiveMs);
  if (idleMs >= params.restResetDays * MS_PER_DAY)
    return { runStartMs: nowMs, lastActiveMs: nowMs };
  return { runStartMs: previous.runStartMs, lastActiveMs: Math.max(previous.lastActiveMs, nowMs) };
}

/** Days of the current run at `nowMs` (t of §3.2). */
export function operatingDays(run: RunState, nowMs: number): number {
  return Math.max(0, nowMs - run.runStartMs) / MS_PER_DAY;
}
