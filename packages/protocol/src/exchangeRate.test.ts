import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ONE_DPN } from "./amount.ts";
import { DEFAULT_RATE_PARAMS, exchangeRate, type RateInputs } from "./exchangeRate.ts";
import { errorCode } from "./testing.ts";

// docs/protocol.md §Exchange rate, worked example.
const example: RateInputs = {
  computePriceUsdPerCu: 1.2e-5,
  dpnPriceUsd: 0.14,
  circulation: 100_000n * ONE_DPN,
  demandCu: 1e9,
  rigShare: 0.08,
  longTailShare: 0.65,
};

describe("exchangeRate", () => {
  it("reproduces the worked example: 15,000 CU per DPN", () => {
    const rate = exchangeRate(example);
    expect(rate.anchorCuPerDpn).toBeCloseTo(12_500, 9);
    expect(rate.supplyDemandImbalance).toBeCloseTo(0.25, 12);
    expect(rate.supplyDemandFactor).toBeCloseTo(1.125, 12);
    expect(rate.discountIndex).toBeCloseTo(1 / 15, 12);
    expect(rate.cuPerDpn).toBeCloseTo(15_000, 6);
    expect(rate.msf).toBe(1.2);
    expect(rate.ehf).toBe(1.1);
  });

  it("applies MSF only above 5% rig share and EHF only above 60% long-tail share", () => {
    expect(exchangeRate({ ...example, rigShare: 0.05 }).msf).toBe(1);
    expect(exchangeRate({ ...example, rigShare: 0.0501 }).msf).toBe(1.2);
    expect(exchangeRate({ ...example, longTailShare: 0.6 }).ehf).toBe(1);
    expect(exchangeRate({ ...example, longTailShare: 0.61 }).ehf).toBe(1.1);
  });

  it("is the anchor when supply meets demand and DPN trades at its anchor", () => {
    const rate = exchangeRate({ ...example, dpnPriceUsd: 0.15, circulation: 80_000n * ONE_DPN });
    expect(rate.cuPerDpn).toBeCloseTo(rate.anchorCuPerDpn, 6);
  });

  it("handles an empty economy and zero demand without dividing by zero", () => {
    const empty = exchangeRate({ ...example, circulation: 0n, demandCu: 0 });
    expect(empty.supplyDemandFactor).toBe(1);
    const noDemand = exchangeRate({ ...example, demandCu: 0 });
    expect(noDemand.supplyDemandFactor).toBe(1.5);
    const worthless = exchangeRate({ ...example, dpnPriceUsd: 0 });
    expect(worthless.discountIndex).toBe(0.5);
  });

  it("moves against deviations: more circulation or a cheaper DPN buys more CU per DPN", () => {
    const base = exchangeRate(example).cuPerDpn;
    expect(exchangeRate({ ...example, circulation: 120_000n * ONE_DPN }).cuPerDpn).toBeGreaterThan(
      base,
    );
    expect(exchangeRate({ ...example, dpnPriceUsd: 0.12 }).cuPerDpn).toBeGreaterThan(base);
  });

  it("rejects a zero or invalid compute price and shares outside [0, 1]", () => {
    expect(errorCode(() => exchangeRate({ ...example, computePriceUsdPerCu: 0 }))).toBe(
      "PROTOCOL_INVALID_INPUT",
    );
    expect(errorCode(() => exchangeRate({ ...example, dpnPriceUsd: Number.NaN }))).toBe(
      "PROTOCOL_INVALID_INPUT",
    );
    expect(errorCode(() => exchangeRate({ ...example, rigShare: 1.5 }))).toBe(
      "PROTOCOL_INVALID_INPUT",
    );
    expect(errorCode(() => exchangeRate({ ...example, circulation: -1n }))).toBe(
      "PROTOCOL_INVALID_INPUT",
    );
  });

  it("is positive, finite and within [0.25, 2.25] × anchor for every valid input", () => {
    fc.assert(
      fc.property(
        fc.record({
          computePriceUsdPerCu: fc.double({ min: 1e-12, max: 1e6, noNaN: true }),
          dpnPriceUsd: fc.double({ min: 0, max: 1e6, noNaN: true }),
          circulation: fc.bigInt({ min: 0n, max: 10n ** 26n }),
          demandCu: fc.double({ min: 0, max: 1e18, noNaN: true }),
          rigShare: fc.double({ min: 0, max: 1, noNaN: true }),
          longTailShare: fc.double({ min: 0, max: 1, noNaN: true }),
        }),
        (inputs) => {
          const rate = exchangeRate(inputs);
          expect(Number.isFinite(rate.cuPerDpn)).toBe(true);
          expect(rate.cuPerDpn).toBeGreaterThan(0);
          const ratio = rate.cuPerDpn / rate.anchorCuPerDpn;
          expect(ratio).toBeGreaterThanOrEqual(0.25 - 1e-12);
          expect(ratio).toBeLessThanOrEqual(2.25 + 1e-12);
        },
      ),
    );
  });

  it("uses the whitepaper's constants by default", () => {
    expect(DEFAULT_RATE_PARAMS.supplyDemandGain).toBe(0.5);
    expect(DEFAULT_RATE_PARAMS.msfRigShareThreshold).toBe(0.05);
    expect(DEFAULT_RATE_PARAMS.ehfLongTailThreshold).toBe(0.6);
  });
});
