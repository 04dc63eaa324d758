import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { dpnToNumber, formatDpn } from "./amount.ts";
import {
  checkEvRewardParams,
  DEFAULT_EV_REWARD_PARAMS,
  EV_REWARD_PARAM_BOUNDS,
  evReward,
  evRewardQuote,
} from "./evReward.ts";
import { errorCode } from "./testing.ts";

function expectCode(run: () => unknown, code: string): void {
  expect(errorCode(run)).toBe(code);
}

// The worked example of docs/protocol.md §EV reward: a $20 charge, 1,000 CU per DPN.
describe("EV reward (§11.1)", () => {
  it("pays 36.8 DPN for a $20 charge: (20 × 0.3) / 0.15 × 0.92", () => {
    const reward = evReward(20);
    expect(formatDpn(reward, 12)).toBe("36.8");
    // The float product carries ~16 significant digits; dpnFromNumber floors what it is given.
    expect(reward).toBe(36_800_000_000_000_004_096n);
  });

  it("mints 40 DPN gross, 36.8 to the owner, 3.2 to the network, for 40,000 CU at 1,000 CU/DPN", () => {
    const quote = evRewardQuote(20, 1000);
    expect(quote.grossUnits).toBe(40_000_000_000_000_000_000n);
    expect(quote.ownerUnits).toBe(evReward(20));
    expect(quote.networkCutUnits).toBe(3_199_999_999_999_995_904n);
    expect(dpnToNumber(quote.networkCutUnits)).toBeCloseTo(3.2, 12);
    expect(quote.grossUnits).toBe(quote.ownerUnits + quote.networkCutUnits);
    expect(quote.requiredCu).toBe(40_000);
  });

  it("offsets 27.6% of the charging cost at the anchor price, not the advertised 30%", () => {
    expect(evRewardQuote(20, 1000).netOffsetShare).toBeCloseTo(0.276, 15);
    expect(dpnToNumber(evReward(20)) * DEFAULT_EV_REWARD_PARAMS.anchorPriceUsdPerDpn).toBeCloseTo(
      5.52,
      12,
    );
  });

  it("pays nothing for a free charge", () => {
    expect(evRewardQuote(0, 1000)).toMatchObject({
      grossUnits: 0n,
      ownerUnits: 0n,
      networkCutUnits: 0n,
      requiredCu: 0,
    });
  });

  it("rejects negative, non-finite or absurd charging costs, a non-positive rate and bad params", () => {
    for (const cost of [-1, Number.NaN, Number.POSITIVE_INFINITY, 2_000_000]) {
      expectCode(() => evReward(cost), "PROTOCOL_INVALID_INPUT");
    }
    expectCode(() => evRewardQuote(20, 0), "PROTOCOL_INVALID_INPUT");
    expectCode(() => evRewardQuote(20, Number.NaN), "PROTOCOL_INVALID_INPUT");
    expectCode(
      () => evReward(20, { ...DEFAULT_EV_REWARD_PARAMS, anchorPriceUsdPerDpn: 0 }),
      "EV_REWARD_INVALID_PARAMS",
    );
    expectCode(
      () => evReward(20, { ...DEFAULT_EV_REWARD_PARAMS, ownerShare: 1.1 }),
      "EV_REWARD_INVALID_PARAMS",
    );
    expect(checkEvRewardParams(DEFAULT_EV_REWARD_PARAMS)).toBe(DEFAULT_EV_REWARD_PARAMS);
  });

  const paramsArb = fc.record({
    offsetShare: fc.double({ min: 0, max: 1, noNaN: true }),
    anchorPriceUsdPerDpn: fc.double({
      min: EV_REWARD_PARAM_BOUNDS.anchorPriceUsdPerDpn.min,
      max: EV_REWARD_PARAM_BOUNDS.anchorPriceUsdPerDpn.max,
      noNaN: true,
    }),
    ownerShare: fc.double({ min: 0.5, max: 1, noNaN: true }),
  });
  const costArb = fc.double({ min: 0, max: 1_000_000, noNaN: true });

  it("splits the gross exactly into owner and network, never negative", () => {
    fc.assert(
      fc.property(
        costArb,
        fc.double({ min: 1e-6, max: 1e9, noNaN: true }),
        paramsArb,
        (cost, rate, params) => {
          const quote = evRewardQuote(cost, rate, params);
          expect(quote.ownerUnits >= 0n && quote.networkCutUnits >= 0n).toBe(true);
          expect(quote.ownerUnits + quote.networkCutUnits).toBe(quote.grossUnits);
          expect(Number.isFinite(quote.requiredCu) && quote.requiredCu >= 0).toBe(true);
        },
      ),
    );
  });

  it("never pays less for a dearer charge", () => {
    fc.assert(
      fc.property(costArb, costArb, paramsArb, (a, b, params) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        expect(evReward(high, params) >= evReward(low, params)).toBe(true);
      }),
    );
  });

  it("pays P × 0.3 / 0.15 × 0.92 = 1.84 DPN per USD, to 12 significant digits", () => {
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 1_000_000, noNaN: true }), (cost) => {
        expect(dpnToNumber(evReward(cost)) / (cost * 1.84)).toBeCloseTo(1, 12);
      }),
    );
  });
});
