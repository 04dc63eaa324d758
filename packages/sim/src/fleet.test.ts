import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  allocateWork,
  BUCKET_COUNT,
  DEFAULT_FLEET,
  fleetShares,
  HIGH_VALUE_ELIGIBLE,
  RIG_BUCKET,
} from "./fleet.ts";

describe("allocateWork", () => {
  it("gives high-value work to heavy non-rig devices only, and never more than capacity", () => {
    const capacityArb = fc.array(fc.double({ min: 0, max: 1e9, noNaN: true }), {
      minLength: BUCKET_COUNT,
      maxLength: BUCKET_COUNT,
    });
    fc.assert(
      fc.property(
        capacityArb,
        fc.double({ min: 0, max: 5e9, noNaN: true }),
        fc.double({ min: 0, max: 5e9, noNaN: true }),
        (caps, high, low) => {
          const capacity = Float64Array.from(caps);
          const served = new Float64Array(BUCKET_COUNT);
          const work = allocateWork(capacity, high, low, served);
          let heavy = 0;
          let total = 0;
          for (let b = 0; b < BUCKET_COUNT; b++) {
            expect(served[b]).toBeLessThanOrEqual((capacity[b] as number) * (1 + 1e-12));
            if (HIGH_VALUE_ELIGIBLE[b] === true) heavy += capacity[b] as number;
            total += served[b] as number;
          }
          expect(HIGH_VALUE_ELIGIBLE[RIG_BUCKET]).toBe(false);
          expect(work.servedHighCu).toBeLessThanOrEqual(heavy * (1 + 1e-12));
          expect(total).toBeCloseTo(work.servedHighCu + work.servedLowCu, -3);
          expect(work.unservedCu).toBeGreaterThanOrEqual(-1e-6 * (high + low));
        },
      ),
    );
  });

  it("leaves rigs idle when only high-value work is demanded", () => {
    const capacity = new Float64Array(BUCKET_COUNT).fill(100);
    const served = new Float64Array(BUCKET_COUNT);
    const work = allocateWork(capacity, 1_000, 0, served);
    expect(served[RIG_BUCKET]).toBe(0);
    expect(work.servedHighCu).toBe(300); // vehicle, heavy PC, server
    expect(work.unservedCu).toBe(700);
  });
});

describe("fleetShares", () => {
  it("normalises capacity shares and counts long-tail devices online", () => {
    const { capacityShare, longTailShare } = fleetShares(DEFAULT_FLEET);
    expect(capacityShare.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(longTailShare).toBeGreaterThan(0.6);
  });
});
