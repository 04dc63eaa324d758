import { DpnError } from "./errors.ts";
import type { Rng } from "./rng.ts";
import { checkBounds, finite, unitInterval } from "./validate.ts";

/**
 * Differential privacy for light-node work (docs/protocol.md §Differential privacy). §3.5:
 * "Noise amount = Laplacian(0, Δf/ε)", "achieving 98% data availability". Here: the Laplace and
 * Gaussian mechanisms drawing from a seeded Rng, a per-device, per-data-set privacy budget kept
 * by sequential composition, and a measurable definition of "data availability".
 */

export const DP_INVALID_EPSILON = "DP_INVALID_EPSILON";
export const DP_INVALID_DELTA = "DP_INVALID_DELTA";
export const DP_INVALID_SENSITIVITY = "DP_INVALID_SENSITIVITY";
export const DP_BUDGET_EXCEEDED = "DP_BUDGET_EXCEEDED";
export const DP_INVALID_BUDGET = "DP_INVALID_BUDGET";
export const DP_INVALID_PARAMS = "DP_INVALID_PARAMS";
export const DP_RNG_DEGENERATE = "DP_RNG_DEGENERATE";

/**
 * Hard validity limits of one mechanism call, whatever the governed parameters say. ε above
 * 1000 protects nothing and is almost surely a unit error. The noise scale is kept within
 * [1e-300, 1e300] so that it is a normal float and 40 times it (beyond the largest draw) is finite.
 */
export const MAX_EPSILON = 1000;
export const MIN_NOISE_SCALE = 1e-300;
export const MAX_NOISE_SCALE = 1e300;
/** Largest δ a budget or mechanism accepts: δ is a failure probability and must be small. */
export const MAX_DELTA = 0.01;

export interface PrivacyParams {
  /** Lifetime ε budget of one device over one data set (sequential composition). */
  readonly totalEpsilon: number;
  /** Lifetime δ budget of one device over one data set. */
  readonly totalDelta: number;
  /** Largest ε a single release may spend. */
  readonly maxEpsilonPerRelease: number;
  /** Relative error τ under which a released aggregate counts as "available". */
  readonly availabilityTolerance: number;
  /** Relative errors are measured against max(|true value|, this), so that zeros are measurable. */
  readonly relativeErrorFloor: number;
}

/**
 * Defaults (ours; the whitepaper gives none). ε = 8 over a device's lifetime on one data set
 * sits between Apple's per-day local-DP budgets (2–8) and the US 2020 Census's total (≈ 17);
 * δ = 1e-6 is below 1/n for every data set a device holds; one release spends at most ε = 4, so
 * no single task uses up a budget. τ = 5% is the tolerance "available" is judged at.
 */
export const DEFAULT_PRIVACY_PARAMS: PrivacyParams = {
  totalEpsilon: 8,
  totalDelta: 1e-6,
  maxEpsilonPerRelease: 4,
  availabilityTolerance: 0.05,
  relativeErrorFloor: 1,
};

export const PRIVACY_PARAM_BOUNDS = {
  totalEpsilon: { min: 0.01, max: 100 },
  totalDelta: { min: 0, max: MAX_DELTA },
  maxEpsilonPerRelease: { min: 0.01, max: 100 },
  availabilityTolerance: { min: 0.001, max: 1 },
  relativeErrorFloor: { min: 1e-12, max: 1e12 },
} as const satisfies {
  readonly [K in keyof PrivacyParams]: { readonly min: number; readonly max: number };
};

/** Checks every parameter against PRIVACY_PARAM_BOUNDS. (docs/protocol.md §Differential privacy: parameters) */
export function checkPrivacyParams(params: PrivacyParams): PrivacyParams {
  return checkBounds(params, PRIVACY_PARAM_BOUNDS, DP_INVALID_PARAMS, "Privacy");
}

// ---------------------------------------------------------------------------------------------
// Laplace mechanism (§3.5)

/**
 * The Laplace scale b = Δf/ε (§3.5). Expected absolute error E|X| = b, variance 2b².
 * (docs/protocol.md §Differential privacy: Laplace mechanism)
 */
export function laplaceScale(sensitivity: number, epsilon: number): number {
  checkSensitivity(sensitivity);
  checkEpsilon(epsilon);
  return checkScale(sensitivity / epsilon, sensitivity, epsilon);
}

/**
 * One draw of Laplace(0, b), b = Δf/ε, by the inverse CDF:
 *   X = −b · sgn(u − ½) · ln(1 − 2|u − ½|),  u uniform on (0, 1).
 * The Rng gives u = k/2^53 with k in [0, 2^53); k = 0 would give ln 0 = −∞, so it is redrawn.
 * Every step is then exact in binary floating point (u − ½ and 1 − 2|u − ½| are multiples of
 * 2^-53 and 2^-52), the grid {1, …, 2^53 − 1}/2^53 is symmetric about ½ so the draws are exactly
 * symmetric about 0, and |X| ≤ b · 52 ln 2 ≈ 36.04 b: never infinite.
 * (docs/protocol.md §Differential privacy: Laplace mechanism)
 */
export function laplaceNoise(sensitivity: number, epsilon: number, rng: Rng): number {
  const b = laplaceScale(sensitivity, epsilon);
  const u = openUnitFloat(rng);
  const centred = u - 0.5;
  // "+ 0" turns the −0 of u = ½ (ln 1 = 0) into 0.
  const magnitude = -b * Math.log(1 - 2 * Math.abs(centred)) + 0;
  return centred < 0 ? -magnitude : magnitude;
}

/**
 * The Laplace mechanism: value + Laplace(0, Δf/ε). ε-differentially private when `sensitivity`
 * bounds how much one person's data can change `value` (L1 sensitivity).
 * (docs/protocol.md §Differential privacy: Laplace mechanism)
 */
export function laplaceMechanism(
  value: number,
  sensitivity: number,
  epsilon: number,
  rng: Rng,
): number {
  finite("value", value);
  return checkRelease(value + laplaceNoise(sensitivity, epsilon, rng));
}

// ---------------------------------------------------------------------------------------------
// Gaussian mechanism

/**
 * The classical Gaussian mechanism's σ = Δ₂ · √(2 ln(1.25/δ)) / ε (Dwork & Roth 2014, Thm A.1).
 * The theorem holds only for 0 < ε < 1, so ε ≥ 1 is refused rather than silently under-noised;
 * δ must lie in (0, MAX_DELTA]. (docs/protocol.md §Differential privacy: Gaussian mechanism)
 */
export function gaussianSigma(l2Sensitivity: number, epsilon: number, delta: number): number {
  checkSensitivity(l2Sensitivity);
  checkEpsilon(epsilon);
  if (epsilon >= 1) {
    throw new DpnError(DP_INVALID_EPSILON, `The Gaussian mechanism needs ε < 1, got ${epsilon}.`, {
      hint: "Its σ formula is proven only for ε < 1: use the Laplace mechanism, or split the release into several with ε < 1 each.",
      details: { epsilon },
    });
  }
  if (typeof delta !== "number" || !Number.isFinite(delta) || delta <= 0 || delta > MAX_DELTA) {
    throw new DpnError(DP_INVALID_DELTA, `δ must lie in (0, ${MAX_DELTA}], got ${String(delta)}.`, {
      hint: "δ is the probability that the guarantee fails; take it well below 1/(records in the data set).",
      details: { delta: String(delta) },
    });
  }
  const sigma = (l2Sensitivity * Math.sqrt(2 * Math.log(1.25 / delta))) / epsilon;
  return checkScale(sigma, l2Sensitivity, epsilon);
}

/**
 * One draw of N(0, σ²) by Box–Muller: √(−2 ln u₁) · cos(2π u₂) with u₁ = 1 − float in (0, 1],
 * so ln u₁ is finite and |z| ≤ σ · √(2 · 53 ln 2) ≈ 8.57 σ.
 * (docs/protocol.md §Differential privacy: Gaussian mechanism)
 */
export function gaussianNoise(
  l2Sensitivity: number,
  epsilon: number,
  delta: number,
  rng: Rng,
): number {
  const sigma = gaussianSigma(l2Sensitivity, epsilon, delta);
  const u1 = 1 - rng.nextFloat();
  const u2 = rng.nextFloat();
  return sigma * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/**
 * The Gaussian mechanism: value + N(0, σ²), (ε, δ)-differentially private for L2 sensitivity Δ₂.
 * The better fit where updates are clipped to an L2 norm (federated learning, issue 6).
 * (docs/protocol.md §Differential privacy: Gaussian mechanism)
 */
export function gaussianMechanism(
  value: number,
  l2Sensitivity: number,
  epsilon: number,
  delta: number,
  rng: Rng,
): number {
  finite("value", value);
  return checkRelease(value + gaussianNoise(l2Sensitivity, epsilon, delta, rng));
}

// ---------------------------------------------------------------------------------------------
// Privacy budget (sequential composition)

/**
 * ε and δ are counted in exact integer units of 10^-18, read from each number's shortest decimal
 * form (what JavaScript prints: the number a person wrote). So ten spends of 0.1 use exactly a
 * budget of 1, whatever the order, where float sums would not. Spends round up and totals round
 * down to the unit, so the accountant never under-counts privacy loss.
 */
export const PRIVACY_UNITS_PER_EPSILON = 10n ** 18n;

export interface PrivacyBudget {
  readonly deviceId: string;
  readonly datasetId: string;
  /** Totals and amounts spent, in units of 10^-18 ε and 10^-18 δ. */
  readonly totalEpsilonUnits: bigint;
  readonly totalDeltaUnits: bigint;
  readonly spentEpsilonUnits: bigint;
  readonly spentDeltaUnits: bigint;
  /** Number of releases charged to this budget. */
  readonly releases: number;
}

export interface PrivacySpend {
  readonly epsilon: number;
  /** 0 for pure ε-DP mechanisms such as Laplace. */
  readonly delta: number;
}

/** Largest identifier a budget key accepts. */
export const MAX_BUDGET_ID_LENGTH = 256;

/**
 * A fresh budget for one device and one data set, with the governed totals.
 * (docs/protocol.md §Differential privacy: privacy budget)
 */
export function createPrivacyBudget(
  deviceId: string,
  datasetId: string,
  params: PrivacyParams = DEFAULT_PRIVACY_PARAMS,
): PrivacyBudget {
  checkPrivacyParams(params);
  checkBudgetId("deviceId", deviceId);
  checkBudgetId("datasetId", datasetId);
  return Object.freeze({
    deviceId,
    datasetId,
    totalEpsilonUnits: toPrivacyUnits(params.totalEpsilon, "floor"),
    totalDeltaUnits: toPrivacyUnits(params.totalDelta, "floor"),
    spentEpsilonUnits: 0n,
    spentDeltaUnits: 0n,
    releases: 0,
  });
}

/**
 * Charges one release to a budget by sequential composition (Σε ≤ total ε and Σδ ≤ total δ) and
 * returns the new state; the input is never modified. A release that would overrun either total
 * is refused with DP_BUDGET_EXCEEDED, whose details say what is left.
 * (docs/protocol.md §Differential privacy: privacy budget)
 */
export function spendPrivacyBudget(
  budget: PrivacyBudget,
  spend: PrivacySpend,
  params: PrivacyParams = DEFAULT_PRIVACY_PARAMS,
): PrivacyBudget {
  checkPrivacyParams(params);
  checkBudget(budget);
  checkEpsilon(spend.epsilon);
  if (spend.epsilon > params.maxEpsilonPerRelease) {
    throw new DpnError(
      DP_INVALID_EPSILON,
      `One release may spend at most ε = ${params.maxEpsilonPerRelease}, requested ${spend.epsilon}.`,
      {
        hint: "Add more noise (a smaller ε) or split the work into several releases.",
        details: { epsilon: spend.epsilon },
      },
    );
  }
  if (
    typeof spend.delta !== "number" ||
    !Number.isFinite(spend.delta) ||
    spend.delta < 0 ||
    spend.delta > MAX_DELTA
  ) {
    throw new DpnError(
      DP_INVALID_DELTA,
      `δ must lie in [0, ${MAX_DELTA}], got ${String(spend.delta)}.`,
      {
        hint: "Pass δ = 0 for the Laplace mechanism.",
      },
    );
  }
  const epsilonUnits = toPrivacyUnits(spend.epsilon, "ceil");
  const deltaUnits = toPrivacyUnits(spend.delta, "ceil");
  const spentEpsilonUnits = budget.spentEpsilonUnits + epsilonUnits;
  const spentDeltaUnits = budget.spentDeltaUnits + deltaUnits;
  if (spentEpsilonUnits > budget.totalEpsilonUnits || spentDeltaUnits > budget.totalDeltaUnits) {
    const left = remainingPrivacyBudget(budget);
    throw new DpnError(
      DP_BUDGET_EXCEEDED,
      `Device "${budget.deviceId}" has ε = ${left.epsilon}, δ = ${left.delta} left on data set "${budget.datasetId}"; the release needs ε = ${spend.epsilon}, δ = ${spend.delta}.`,
      {
        hint: "Refuse this work on this device, use a smaller ε, or run it on another device's data.",
        details: {
          deviceId: budget.deviceId,
          datasetId: budget.datasetId,
          remainingEpsilon: left.epsilon,
          remainingDelta: left.delta,
          requestedEpsilon: spend.epsilon,
          requestedDelta: spend.delta,
        },
      },
    );
  }
  return Object.freeze({
    ...budget,
    spentEpsilonUnits,
    spentDeltaUnits,
    releases: budget.releases + 1,
  });
}

/**
 * What is left of a budget, as numbers (for display and planning; the accounting itself stays
 * in units). (docs/protocol.md §Differential privacy: privacy budget)
 */
export function remainingPrivacyBudget(budget: PrivacyBudget): { epsilon: number; delta: number } {
  checkBudget(budget);
  return {
    epsilon: fromPrivacyUnits(budget.totalEpsilonUnits - budget.spentEpsilonUnits),
    delta: fromPrivacyUnits(budget.totalDeltaUnits - budget.spentDeltaUnits),
  };
}

const DECIMAL_NUMBER = /^(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/;
const UNIT_DECIMALS = 18;

/**
 * A non-negative number in exact units of 10^-18, from its shortest decimal form, rounded up
 * ("ceil") or down ("floor") when it has more than 18 decimals.
 */
function toPrivacyUnits(value: number, rounding: "ceil" | "floor"): bigint {
  const match = DECIMAL_NUMBER.exec(String(value));
  if (match === null) {
    throw new DpnError("PROTOCOL_INVALID_INPUT", `${value} is not a finite non-negative number.`);
  }
  const whole = match[1] ?? "0";
  const fraction = match[2] ?? "";
  const digits = BigInt(whole + fraction);
  // value = digits × 10^(exponent − fraction digits); units = value × 10^18.
  const shift = Number(match[3] ?? "0") - fraction.length + UNIT_DECIMALS;
  if (shift >= 0) return digits * 10n ** BigInt(shift);
  const divisor = 10n ** BigInt(-shift);
  const quotient = digits / divisor;
  return rounding === "ceil" && quotient * divisor !== digits ? quotient + 1n : quotient;
}

function fromPrivacyUnits(units: bigint): number {
  const whole = units / PRIVACY_UNITS_PER_EPSILON;
  const fraction = (units % PRIVACY_UNITS_PER_EPSILON).toString().padStart(UNIT_DECIMALS, "0");
  return Number(`${whole}.${fraction}`);
}

// ---------------------------------------------------------------------------------------------
// Data availability (§3.5 "98% data availability")

/**
 * The probability that a Laplace release of `value` is within relative error τ:
 *   P(|X| ≤ τ·m) = 1 − exp(−τ·m/b),  m = max(|value|, floor),  b = Δf/ε.
 * (docs/protocol.md §Differential privacy: data availability)
 */
export function laplaceAvailability(
  value: number,
  sensitivity: number,
  epsilon: number,
  params: PrivacyParams = DEFAULT_PRIVACY_PARAMS,
): number {
  checkPrivacyParams(params);
  finite("value", value);
  const b = laplaceScale(sensitivity, epsilon);
  const magnitude = Math.max(Math.abs(value), params.relativeErrorFloor);
  // −expm1(−x) = 1 − e^(−x) without cancellation when x is small.
  return -Math.expm1((-params.availabilityTolerance * magnitude) / b);
}

/**
 * The smallest |value| whose Laplace release is within relative error τ with probability
 * `availability`: |value| ≥ b · ln(1/(1 − availability)) / τ. For a count (Δf = 1) at ε = 0.5
 * and τ = 5%, 98% availability needs counts ≥ 156.5. (docs/protocol.md §Differential privacy:
 * data availability)
 */
export function laplaceValueForAvailability(
  sensitivity: number,
  epsilon: number,
  availability: number,
  params: PrivacyParams = DEFAULT_PRIVACY_PARAMS,
): number {
  checkPrivacyParams(params);
  unitInterval("availability", availability);
  if (availability >= 1) {
    throw new DpnError("PROTOCOL_INVALID_INPUT", "availability must be < 1.", {
      hint: "Laplace noise is unbounded: no value is released within tolerance with certainty.",
    });
  }
  const b = laplaceScale(sensitivity, epsilon);
  return (b * -Math.log1p(-availability)) / params.availabilityTolerance;
}

/**
 * Measured data availability: the share of released aggregates whose relative error
 * |released − true| / max(|true|, floor) is at most τ. This is what issue 6 measures against the
 * whitepaper's 98%. An empty list has no availability to measure and is refused.
 * (docs/protocol.md §Differential privacy: data availability)
 */
export function dataAvailability(
  trueValues: readonly number[],
  releasedValues: readonly number[],
  params: PrivacyParams = DEFAULT_PRIVACY_PARAMS,
): number {
  checkPrivacyParams(params);
  if (trueValues.length === 0 || trueValues.length !== releasedValues.length) {
    throw new DpnError(
      "PROTOCOL_INVALID_INPUT",
      `Need as many released values as true values, at least one; got ${trueValues.length} and ${releasedValues.length}.`,
      { hint: "Pair each released aggregate with the exact value it estimates." },
    );
  }
  let within = 0;
  for (let i = 0; i < trueValues.length; i++) {
    const truth = finite("trueValue", trueValues[i] ?? Number.NaN);
    const released = finite("releasedValue", releasedValues[i] ?? Number.NaN);
    const error = Math.abs(released - truth) / Math.max(Math.abs(truth), params.relativeErrorFloor);
    if (error <= params.availabilityTolerance) within += 1;
  }
  return within / trueValues.length;
}

// ---------------------------------------------------------------------------------------------
// Input checks

/** Redraws allowed for u = 0 (probability 2^-53 each) before the Rng is declared broken. */
const MAX_ZERO_REDRAWS = 16;

function openUnitFloat(rng: Rng): number {
  for (let i = 0; i <= MAX_ZERO_REDRAWS; i++) {
    const u = rng.nextFloat();
    if (u > 0) return u;
  }
  throw new DpnError(
    DP_RNG_DEGENERATE,
    "The random generator returned 0 seventeen times in a row.",
    {
      hint: "Pass an Rng from seededRng; a constant generator provides no privacy.",
    },
  );
}

function checkEpsilon(epsilon: number): void {
  if (
    typeof epsilon !== "number" ||
    !Number.isFinite(epsilon) ||
    epsilon <= 0 ||
    epsilon > MAX_EPSILON
  ) {
    throw new DpnError(
      DP_INVALID_EPSILON,
      `ε must lie in (0, ${MAX_EPSILON}], got ${String(epsilon)}.`,
      {
        hint: "ε is the privacy budget of this release: smaller means more noise and more privacy.",
        details: { epsilon: String(epsilon) },
      },
    );
  }
}

function checkSensitivity(sensitivity: number): void {
  if (typeof sensitivity !== "number" || !Number.isFinite(sensitivity) || sensitivity <= 0) {
    throw new DpnError(
      DP_INVALID_SENSITIVITY,
      `Sensitivity must be > 0, got ${String(sensitivity)}.`,
      {
        hint: "Sensitivity is the most one person's data can change the result, e.g. 1 for a count.",
        details: { sensitivity: String(sensitivity) },
      },
    );
  }
}

function checkScale(scale: number, sensitivity: number, epsilon: number): number {
  if (!(scale >= MIN_NOISE_SCALE && scale <= MAX_NOISE_SCALE)) {
    throw new DpnError(
      DP_INVALID_SENSITIVITY,
      `The noise scale from sensitivity ${sensitivity} and ε ${epsilon} is ${scale}, outside [${MIN_NOISE_SCALE}, ${MAX_NOISE_SCALE}].`,
      { hint: "Rescale the data (e.g. to thousands) so sensitivity and ε are of ordinary size." },
    );
  }
  return scale;
}

function checkRelease(released: number): number {
  if (!Number.isFinite(released)) {
    throw new DpnError("PROTOCOL_INVALID_INPUT", "The noisy release overflowed a float.", {
      hint: "Rescale the value before adding noise.",
    });
  }
  return released;
}

function checkBudgetId(name: string, id: string): void {
  if (typeof id !== "string" || id.length === 0 || id.length > MAX_BUDGET_ID_LENGTH) {
    throw new DpnError(
      "PROTOCOL_INVALID_INPUT",
      `${name} must be a string of 1 to ${MAX_BUDGET_ID_LENGTH} characters.`,
      {
        hint: "A budget belongs to one device and one data set; name both.",
      },
    );
  }
}

function checkBudget(budget: PrivacyBudget): void {
  const valid =
    budget.spentEpsilonUnits >= 0n &&
    budget.spentDeltaUnits >= 0n &&
    budget.spentEpsilonUnits <= budget.totalEpsilonUnits &&
    budget.spentDeltaUnits <= budget.totalDeltaUnits &&
    Number.isSafeInteger(budget.releases) &&
    budget.releases >= 0;
  if (!valid) {
    // A budget state that is over its total was not produced by spendPrivacyBudget: corrupt.
    throw new DpnError(
      DP_INVALID_BUDGET,
      `The privacy budget of "${budget.deviceId}" is corrupt.`,
      {
        hint: "Rebuild it from the recorded releases; never edit budget state by hand.",
      },
    );
  }
}
