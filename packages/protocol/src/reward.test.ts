import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { dpnToNumber, ONE_DPN } from "./amount.ts";
import { DEVICE_CLASSES } from "./devices.ts";
import { exchangeRate, type RateInputs } from "./exchangeRate.ts";
import { depositFactor, priceDpn, reward } from "./reward.ts";

const inputs: RateInputs = {
  computePriceUsdPerCu: 1.2e-5,
  dpnPriceUsd: 0.14,
  circulation: 100_000n * ONE_DPN,
  demandCu: 1e9,
  rigShare: 0.08,
  longTailShare: 0.65,
};
const rate = exchangeRate(inputs); // 15,000 CU per DPN

describe("rewards and quotes", () => {
  it("prices 3,000 CU at 0.2 DPN", () => {
    expect(dpnToNumber(priceDpn(3000, rate))).toBeCloseTo(0.2, 15);
  });

  it("pays a pc the base, a phone 10% more and a 10-day rig 1/1.2 × e^-0.3 of it", () => {
    const pc = reward({ cu: 3000, deviceClass: "pc", operatingDays: 10 }, rate);
    const phone = reward({ cu: 3000, deviceClass: "phone", operatingDays: 10 }, rate);
    const rig = reward({ cu: 3000, deviceClass: "rig", operatingDays: 10 }, rate);
    expect(dpnToNumber(pc.amount)).toBeCloseTo(0.2, 12);
    expect(dpnToNumber(phone.amount)).toBeCloseTo(0.22, 12);
    expect(dpnToNumber(rig.amount)).toBeCloseTo(0.123469703, 9);
    expect(rig.decay).toBeCloseTo(Math.exp(-0.3), 15);
  });

  it("drops the class factors when MSF and EHF are inactive", () => {
    const quiet = exchangeRate({ ...inputs, rigShare: 0.01, longTailShare: 0.3 });
    expect(depositFactor(quiet, "rig")).toBe(1);
    expect(depositFactor(quiet, "phone")).toBe(1);
  });

  it("never pays a rig more than an ordinary device for the same work", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1e9, noNaN: true }),
        fc.double({ min: 0, max: 1000, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (cu, days, rigShare) => {
          const r = exchangeRate({ ...inputs, rigShare });
          const rig = reward({ cu, deviceClass: "rig", operatingDays: days }, r).amount;
          for (const deviceClass of DEVICE_CLASSES) {
            expect(
              reward({ cu, deviceClass, operatingDays: days }, r).amount,
            ).toBeGreaterThanOrEqual(rig);
          }
        },
      ),
    );
  });
});
