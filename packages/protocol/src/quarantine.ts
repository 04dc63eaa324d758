/**
 * Quarantine (docs/protocol.md §Reputation): the cost of wrong results beyond reputation. A
 * device whose results are refused `strikes` times within `windowMs` gets no leases for a
 * period that doubles with each quarantine it has served, from `baseMs` up to `maxMs`. A
 * halved reputation alone costs a cheating device nothing while it keeps the leases coming
 * (each wrong result still costs the node a full recomputation); quarantine makes a run of
 * wrong results cost the device its work for hours, then days.
 */
export interface QuarantineParams {
  /** Refused results within the window that start a quarantine. */
  readonly strikes: number;
  /** How far back refusals count. */
  readonly windowMs: number;
  /** The first quarantine's length; each later one lasts twice the previous. */
  readonly baseMs: number;
  /** No quarantine lasts longer. */
  readonly maxMs: number;
}

const HOUR_MS = 3_600_000;

/**
 * Three refusals in an hour: one can be a fault (a bad cell of memory, a broken build), three in
 * an hour are a pattern. Ten minutes first, so an honest device with a passing fault is back
 * soon; a week at most after ten quarantines.
 */
export const DEFAULT_QUARANTINE_PARAMS: QuarantineParams = {
  strikes: 3,
  windowMs: HOUR_MS,
  baseMs: 10 * 60_000,
  maxMs: 7 * 24 * HOUR_MS,
};

export const QUARANTINE_PARAM_BOUNDS: {
  readonly [K in keyof QuarantineParams]: { readonly min: number; readonly max: number };
} = {
  strikes: { min: 1, max: 1_000 },
  windowMs: { min: 1_000, max: 30 * 24 * HOUR_MS },
  baseMs: { min: 1_000, max: 30 * 24 * HOUR_MS },
  maxMs: { min: 1_000, max: 365 * 24 * HOUR_MS },
};

/** What the node keeps of a device's refusals. */
export interface StrikeRecord {
  /** Refusals counted in the current window. */
  readonly strikes: number;
  /** When the current window opened (its first refusal). */
  readonly windowStartMs: number;
  /** Quarantines the device has been given so far. */
  readonly quarantines: number;
  /** The end of the current or last quarantine; 0 if none. */
  readonly quarantinedUntilMs: number;
}

export const NO_STRIKES: StrikeRecord = {
  strikes: 0,
  windowStartMs: 0,
  quarantines: 0,
  quarantinedUntilMs: 0,
};

/** Length of the n-th quarantine (n ≥ 1): baseMs · 2^(n−1), at most maxMs. */
export function quarantineMs(n: number, params: QuarantineParams): number {
  return Math.min(params.maxMs, params.baseMs * 2 ** Math.min(Math.max(0, n - 1), 60));
}

/**
 * The record after one more refused result at `nowMs`. A refusal after the window closed opens
 * a new one; the `strikes`-th within a window starts a quarantine and empties the window.
 */
export function afterStrike(
  record: StrikeRecord,
  nowMs: number,
  params: QuarantineParams,
): StrikeRecord {
  const inWindow = record.strikes > 0 && nowMs - record.windowStartMs < params.windowMs;
  const strikes = inWindow ? record.strikes + 1 : 1;
  const windowStartMs = inWindow ? record.windowStartMs : nowMs;
  if (strikes < params.strikes) return { ...record, strikes, windowStartMs };
  const quarantines = record.quarantines + 1;
  return {
    strikes: 0,
    windowStartMs: nowMs,
    quarantines,
    quarantinedUntilMs: nowMs + quarantineMs(quarantines, params),
  };
}

export function isQuarantined(record: StrikeRecord, nowMs: number): boolean {
  return nowMs < record.quarantinedUntilMs;
}
