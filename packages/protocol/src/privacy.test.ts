import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isDpnError } from "./errors.ts";
import {
  checkPrivacyParams,
  createPrivacyBudget,
  DEFAULT_PRIVACY_PARAMS,
  dataAvailability,
  gaussianMechanism,
  gaussianNoise,
  gaussianSigma,
  laplaceAvailability,
  laplaceMechanism,
  laplaceNoise,
  laplaceScale,
  laplaceValueForAvailability,
  type PrivacyBudget,
  type PrivacyParams,
  remainingPrivacyBudget,
  spendPrivacyBudget,
} from "./privacy.ts";
import { type Rng, seededRng } from "./rng.ts";
import { errorCode } from "./testing.ts";

function expectCode(run: () => unknown, code: string): void {
  expect(errorCode(run)).toBe(code);
}

/** An Rng that replays fixed floats, to reach the edges of the inverse CDF. */
function replayRng(floats: readonly number[]): Rng {
  let i = 0;
  return {
    nextFloat: () => floats[Math.min(i++, floats.length - 1)] ?? 0,
    nextUint32: () => 0,
    nextInt: () => 0,
  };
}

/** Largest |Laplace draw| / b: u = 2^-53 gives ln(2^-52). */
const LAPLACE_MAX_DRAW = 52 * Math.LN2;

describe("Laplace mechanism (§3.5)", () => {
  it("uses scale b = Δf/ε: a count (Δf = 1) at ε = 0.5 has b = 2", () => {
    expect(laplaceScale(1, 0.5)).toBe(2);
  });

  it("inverts the CDF: u = ½ gives 0, u = ¾ gives b·ln 2, u = ¼ gives −b·ln 2", () => {
    expect(laplaceNoise(1, 0.5, replayRng([0.5]))).toBe(0);
    expect(laplaceNoise(1, 0.5, replayRng([0.75]))).toBeCloseTo(2 * Math.LN2, 15);
    expect(laplaceNoise(1, 0.5, replayRng([0.25]))).toBeCloseTo(-2 * Math.LN2, 15);
  });

  it("redraws u = 0 instead of returning −Infinity, and stays within b·52·ln 2 at the grid's edge", () => {
    expect(laplaceNoise(1, 0.5, replayRng([0, 0.75]))).toBeCloseTo(2 * Math.LN2, 15);
    expect(laplaceNoise(1, 0.5, replayRng([2 ** -53]))).toBeCloseTo(-2 * LAPLACE_MAX_DRAW, 12);
    expect(laplaceNoise(1, 0.5, replayRng([1 - 2 ** -53]))).toBeCloseTo(2 * LAPLACE_MAX_DRAW, 12);
    expectCode(() => laplaceNoise(1, 0.5, replayRng([0])), "DP_RNG_DEGENERATE");
  });

  it("adds the same noise to the value for the same seed", () => {
    const noise = laplaceNoise(1, 0.5, seededRng("job-7/epoch-3"));
    expect(laplaceMechanism(1000, 1, 0.5, seededRng("job-7/epoch-3"))).toBe(1000 + noise);
  });

  it("rejects ε ≤ 0, ε > 1000, non-finite ε, non-positive sensitivity and non-finite values", () => {
    const rng = seededRng("s");
    for (const epsilon of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 1001]) {
      expectCode(() => laplaceNoise(1, epsilon, rng), "DP_INVALID_EPSILON");
    }
    for (const sensitivity of [0, -1, Number.NaN]) {
      expectCode(() => laplaceNoise(sensitivity, 1, rng), "DP_INVALID_SENSITIVITY");
    }
    expectCode(() => laplaceNoise(1e300, 1e-3, rng), "DP_INVALID_SENSITIVITY");
    expectCode(() => laplaceMechanism(Number.NaN, 1, 1, rng), "PROTOCOL_INVALID_INPUT");
  });

  it("always returns a finite draw within b·52·ln 2", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-6, max: 1e6, noNaN: true }),
        fc.double({ min: 1e-3, max: 1000, noNaN: true }),
        fc.string({ minLength: 1 }),
        (sensitivity, epsilon, seed) => {
          const rng = seededRng(seed);
          const b = laplaceScale(sensitivity, epsilon);
          for (let i = 0; i < 20; i++) {
            const x = laplaceNoise(sensitivity, epsilon, rng);
            expect(Number.isFinite(x)).toBe(true);
            expect(Math.abs(x)).toBeLessThanOrEqual(b * LAPLACE_MAX_DRAW * (1 + 1e-12));
          }
        },
      ),
    );
  });

  it("has mean 0 and variance 2b² over 200,000 seeded draws", () => {
    // Standard errors at N = 200,000: mean √2·b/√N ≈ 0.0032·b; variance √20·b²/√N ≈ 0.01·b²
    // (Var X² = 20b⁴ for the Laplace). Tolerances are five standard errors or more.
    const n = 200_000;
    const b = 2;
    const rng = seededRng("dp-laplace-moments");
    let sum = 0;
    let sumSquares = 0;
    for (let i = 0; i < n; i++) {
      const x = laplaceNoise(1, 0.5, rng);
      sum += x;
      sumSquares += x * x;
    }
    const mean = sum / n;
    expect(Math.abs(mean)).toBeLessThan(0.016 * b);
    expect(Math.abs(sumSquares / n - mean * mean - 2 * b * b) / (2 * b * b)).toBeLessThan(0.03);
    // Expected absolute error is b: the figure docs/protocol.md uses for availability.
  });

  it("has expected absolute error b over 200,000 seeded draws", () => {
    const n = 200_000;
    const rng = seededRng("dp-laplace-abs");
    let sumAbs = 0;
    for (let i = 0; i < n; i++) sumAbs += Math.abs(laplaceNoise(1, 0.5, rng));
    expect(Math.abs(sumAbs / n - 2) / 2).toBeLessThan(0.02);
  });
});

describe("Gaussian mechanism", () => {
  it("uses σ = Δ₂·√(2 ln(1.25/δ))/ε: Δ₂ = 1, ε = 0.5, δ = 1e-5 gives σ = 9.6896", () => {
    expect(gaussianSigma(1, 0.5, 1e-5)).toBeCloseTo(9.6896, 4);
  });

  it("refuses ε ≥ 1, where the classical bound is not proven, and δ outside (0, 0.01]", () => {
    expectCode(() => gaussianSigma(1, 1, 1e-5), "DP_INVALID_EPSILON");
    expectCode(() => gaussianSigma(1, 2, 1e-5), "DP_INVALID_EPSILON");
    for (const delta of [0, -1e-6, 0.5, Number.NaN]) {
      expectCode(() => gaussianSigma(1, 0.5, delta), "DP_INVALID_DELTA");
    }
  });

  it("has mean 0 and variance σ² over 200,000 seeded draws", () => {
    const n = 200_000;
    const sigma = gaussianSigma(1, 0.5, 1e-5);
    const rng = seededRng("dp-gauss-moments");
    let sum = 0;
    let sumSquares = 0;
    let largest = 0;
    for (let i = 0; i < n; i++) {
      const x = gaussianNoise(1, 0.5, 1e-5, rng);
      sum += x;
      sumSquares += x * x;
      largest = Math.max(largest, Math.abs(x));
    }
    expect(largest).toBeLessThanOrEqual(sigma * Math.sqrt(2 * 53 * Math.LN2));
    const mean = sum / n;
    // Standard errors: mean σ/√N ≈ 0.0022σ; variance √2·σ²/√N ≈ 0.0032σ².
    expect(Math.abs(mean)).toBeLessThan(0.012 * sigma);
    expect(Math.abs(sumSquares / n - mean * mean - sigma * sigma) / (sigma * sigma)).toBeLessThan(
      0.02,
    );
  });

  it("adds the same noise to the value for the same seed", () => {
    const noise = gaussianNoise(1, 0.5, 1e-5, seededRng("fl-round-1"));
    expect(gaussianMechanism(3, 1, 0.5, 1e-5, seededRng("fl-round-1"))).toBe(3 + noise);
  });
});

// The worked example of docs/protocol.md §Differential privacy: privacy budget.
const EXAMPLE_PARAMS: PrivacyParams = {
  ...DEFAULT_PRIVACY_PARAMS,
  totalEpsilon: 1,
  totalDelta: 1e-5,
};

describe("privacy budget", () => {
  it("charges 0.3 then 0.5 (δ 1e-6) of ε = 1, δ = 1e-5, then refuses 0.3 with 0.2 left", () => {
    const fresh = createPrivacyBudget("phone-17", "penguins", EXAMPLE_PARAMS);
    const first = spendPrivacyBudget(fresh, { epsilon: 0.3, delta: 0 }, EXAMPLE_PARAMS);
    expect(remainingPrivacyBudget(first)).toEqual({ epsilon: 0.7, delta: 1e-5 });
    const second = spendPrivacyBudget(first, { epsilon: 0.5, delta: 1e-6 }, EXAMPLE_PARAMS);
    expect(remainingPrivacyBudget(second)).toEqual({ epsilon: 0.2, delta: 9e-6 });
    expect(second.releases).toBe(2);
    let error: unknown;
    try {
      spendPrivacyBudget(second, { epsilon: 0.3, delta: 0 }, EXAMPLE_PARAMS);
    } catch (caught) {
      error = caught;
    }
    expect(isDpnError(error, "DP_BUDGET_EXCEEDED") && error.details).toMatchObject({
      remainingEpsilon: 0.2,
      remainingDelta: 9e-6,
    });
  });

  it("lets ten releases of ε = 0.1 use a budget of 1 exactly, and not an eleventh", () => {
    let budget = createPrivacyBudget("d", "s", EXAMPLE_PARAMS);
    for (let i = 0; i < 10; i++)
      budget = spendPrivacyBudget(budget, { epsilon: 0.1, delta: 0 }, EXAMPLE_PARAMS);
    expect(remainingPrivacyBudget(budget).epsilon).toBe(0);
    expectCode(
      () => spendPrivacyBudget(budget, { epsilon: 0.1, delta: 0 }, EXAMPLE_PARAMS),
      "DP_BUDGET_EXCEEDED",
    );
  });

  it("refuses a release that overruns δ alone", () => {
    const budget = createPrivacyBudget("d", "s", EXAMPLE_PARAMS);
    expectCode(
      () => spendPrivacyBudget(budget, { epsilon: 0.1, delta: 2e-5 }, EXAMPLE_PARAMS),
      "DP_BUDGET_EXCEEDED",
    );
  });

  it("never changes the state it was given", () => {
    const budget = createPrivacyBudget("d", "s");
    const copy = { ...budget };
    spendPrivacyBudget(budget, { epsilon: 1, delta: 0 });
    expect(budget).toEqual(copy);
    expect(Object.isFrozen(budget)).toBe(true);
  });

  it("rejects bad spends, a single release above the per-release cap and corrupt state", () => {
    const budget = createPrivacyBudget("d", "s");
    expectCode(() => spendPrivacyBudget(budget, { epsilon: 0, delta: 0 }), "DP_INVALID_EPSILON");
    expectCode(() => spendPrivacyBudget(budget, { epsilon: 5, delta: 0 }), "DP_INVALID_EPSILON");
    expectCode(() => spendPrivacyBudget(budget, { epsilon: 1, delta: -1 }), "DP_INVALID_DELTA");
    expectCode(
      () =>
        spendPrivacyBudget(
          { ...budget, spentEpsilonUnits: budget.totalEpsilonUnits + 1n },
          { epsilon: 1, delta: 0 },
        ),
      "DP_INVALID_BUDGET",
    );
    expectCode(() => createPrivacyBudget("", "s"), "PROTOCOL_INVALID_INPUT");
    expectCode(
      () => createPrivacyBudget("d", "s", { ...DEFAULT_PRIVACY_PARAMS, totalEpsilon: 0 }),
      "DP_INVALID_PARAMS",
    );
  });

  const spendArb = fc.record({
    epsilon: fc.double({ min: 1e-6, max: 4, noNaN: true }),
    delta: fc.oneof(fc.constant(0), fc.double({ min: 1e-12, max: 1e-6, noNaN: true })),
  });

  it("never lets the amount spent go above the total", () => {
    fc.assert(
      fc.property(fc.array(spendArb, { maxLength: 40 }), (spends) => {
        let budget: PrivacyBudget = createPrivacyBudget("d", "s");
        for (const spend of spends) {
          try {
            budget = spendPrivacyBudget(budget, spend);
          } catch (error) {
            expect(isDpnError(error, "DP_BUDGET_EXCEEDED")).toBe(true);
          }
          expect(budget.spentEpsilonUnits <= budget.totalEpsilonUnits).toBe(true);
          expect(budget.spentDeltaUnits <= budget.totalDeltaUnits).toBe(true);
          const left = remainingPrivacyBudget(budget);
          expect(left.epsilon >= 0 && left.delta >= 0).toBe(true);
        }
      }),
    );
  });

  it("spends the same total in any order, and accepts a set of releases in every order or none", () => {
    const spendAll = (
      spends: readonly { epsilon: number; delta: number }[],
    ): PrivacyBudget | "exceeded" => {
      let budget = createPrivacyBudget("d", "s");
      for (const spend of spends) {
        try {
          budget = spendPrivacyBudget(budget, spend);
        } catch {
          return "exceeded";
        }
      }
      return budget;
    };
    fc.assert(
      fc.property(fc.array(spendArb, { maxLength: 12 }), (spends) => {
        const forward = spendAll(spends);
        const backward = spendAll([...spends].reverse());
        const sorted = spendAll([...spends].sort((a, b) => a.epsilon - b.epsilon));
        for (const other of [backward, sorted]) {
          if (forward === "exceeded" || other === "exceeded") expect(other).toBe(forward);
          else {
            expect(other.spentEpsilonUnits).toBe(forward.spentEpsilonUnits);
            expect(other.spentDeltaUnits).toBe(forward.spentDeltaUnits);
          }
        }
      }),
    );
  });
});

describe("data availability", () => {
  it("releases a count of 100 at ε = 0.5 within 5% with probability 1 − e^−2.5 = 0.918", () => {
    expect(laplaceAvailability(100, 1, 0.5)).toBeCloseTo(1 - Math.exp(-2.5), 12);
    expect(laplaceAvailability(100, 1, 0.5)).toBeCloseTo(0.918, 3);
    expect(laplaceAvailability(1000, 1, 0.5)).toBeCloseTo(1 - Math.exp(-25), 12);
  });

  it("needs counts of at least 156.5 for 98% availability at ε = 0.5, τ = 5%", () => {
    const needed = laplaceValueForAvailability(1, 0.5, 0.98);
    expect(needed).toBeCloseTo(156.48, 2);
    expect(laplaceAvailability(needed, 1, 0.5)).toBeCloseTo(0.98, 12);
  });

  it("measures the share of releases within 5%: 3 of 4 in the example", () => {
    expect(dataAvailability([100, 200, 0, 50], [104, 230, 0.04, 50])).toBe(0.75);
    expectCode(() => dataAvailability([], []), "PROTOCOL_INVALID_INPUT");
    expectCode(() => dataAvailability([1], [1, 2]), "PROTOCOL_INVALID_INPUT");
  });

  it("matches the predicted availability on 20,000 seeded releases of a count of 100", () => {
    const n = 20_000;
    const rng = seededRng("dp-availability");
    const truth = new Array<number>(n).fill(100);
    const released = truth.map((value) => laplaceMechanism(value, 1, 0.5, rng));
    // Standard error √(p(1−p)/n) ≈ 0.0019.
    expect(
      Math.abs(dataAvailability(truth, released) - laplaceAvailability(100, 1, 0.5)),
    ).toBeLessThan(0.01);
  });

  it("accepts the default parameters and rejects out-of-bounds ones", () => {
    expect(checkPrivacyParams(DEFAULT_PRIVACY_PARAMS)).toBe(DEFAULT_PRIVACY_PARAMS);
    expectCode(
      () => checkPrivacyParams({ ...DEFAULT_PRIVACY_PARAMS, availabilityTolerance: 0 }),
      "DP_INVALID_PARAMS",
    );
  });
});
