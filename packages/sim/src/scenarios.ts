import type { Mechanisms } from "./market.ts";

/**
 * Monte Carlo scenarios: the same extreme market paths run with and without each mechanism, so
 * differences between scenarios are the mechanisms' doing (common random numbers).
 */
export interface Scenario {
  readonly id: string;
  readonly label: string;
  readonly mechanisms: Mechanisms;
  /** Stable the reserve holds at the start, USD; genesis gives it DPN only (docs §Supply). */
  readonly reserveStableUsd: number;
}

const m = (oracleFallback: boolean, burningController: boolean, reserve: boolean): Mechanisms => ({
  oracleFallback,
  burningController,
  reserve,
});

export const SCENARIOS: readonly Scenario[] = [
  { id: "none", label: "no mechanism", mechanisms: m(false, false, false), reserveStableUsd: 0 },
  {
    id: "fallback-only",
    label: "oracle fallback only",
    mechanisms: m(true, false, false),
    reserveStableUsd: 0,
  },
  {
    id: "burning-only",
    label: "burning controller only",
    mechanisms: m(false, true, false),
    reserveStableUsd: 0,
  },
  {
    id: "reserve-only",
    label: "reserve only",
    mechanisms: m(false, false, true),
    reserveStableUsd: 0,
  },
  {
    id: "all",
    label: "all mechanisms (the design)",
    mechanisms: m(true, true, true),
    reserveStableUsd: 0,
  },
  {
    id: "all-but-fallback",
    label: "all but oracle fallback",
    mechanisms: m(false, true, true),
    reserveStableUsd: 0,
  },
  {
    id: "all-but-burning",
    label: "all but burning controller",
    mechanisms: m(true, false, true),
    reserveStableUsd: 0,
  },
  {
    id: "all-but-reserve",
    label: "all but reserve",
    mechanisms: m(true, true, false),
    reserveStableUsd: 0,
  },
  {
    id: "all-stable-reserve",
    label: "all, reserve seeded with 1.5M stable",
    mechanisms: m(true, true, true),
    reserveStableUsd: 1_500_000,
  },
];

/** Extreme events a path may contain (each path has at least one: "extreme market conditions"). */
export type Shock =
  | { readonly kind: "sentiment"; readonly atStep: number; readonly logSize: number }
  | {
      readonly kind: "oracle-attack";
      readonly atStep: number;
      readonly target: "dpn" | "compute";
      readonly feeds: number;
      readonly multiplier: number;
      readonly days: number;
    }
  | { readonly kind: "compute-price"; readonly atStep: number; readonly logSize: number }
  | {
      readonly kind: "demand";
      readonly atStep: number;
      readonly multiplier: number;
      readonly steps: number;
    }
  | { readonly kind: "rig-influx"; readonly atStep: number; readonly multiplier: number };

export const SHOCK_KINDS = [
  "crash",
  "bubble",
  "oracle-attack",
  "compute-price",
  "demand",
  "rig-influx",
] as const;
