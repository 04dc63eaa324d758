import { exchangeRate, ONE_DPN, TOTAL_SUPPLY_CAP } from "@dpn/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Economy } from "./economy.ts";
import { BUCKET_COUNT } from "./fleet.ts";

function economy(): Economy {
  return new Economy({
    anchorUsd: 0.15,
    initialUsersDpn: 10_000_000n * ONE_DPN,
    initialReserveStable: 0n,
    recycleBps: 10_000n,
    antiMonopolyFundBps: 300n,
    nowMs: 0,
  });
}

describe("Economy", () => {
  it("starts from the genesis allocation, balanced", () => {
    const e = economy();
    expect(e.heldDpn()).toBe(TOTAL_SUPPLY_CAP);
    e.checkConservation();
  });

  it("balances to the base unit over any sequence of epochs: supply moves by replenished − burned, issued supply by minted − burned", () => {
    const epoch = fc.record({
      cu: fc.array(fc.double({ min: 0, max: 1e12, noNaN: true }), {
        minLength: BUCKET_COUNT,
        maxLength: BUCKET_COUNT,
      }),
      served: fc.double({ min: 0, max: 1e13, noNaN: true }),
      dpnPrice: fc.double({ min: 0.001, max: 10, noNaN: true }),
      rigShare: fc.double({ min: 0, max: 1, noNaN: true }),
      longTailShare: fc.double({ min: 0, max: 1, noNaN: true }),
      burnBps: fc.integer({ min: 0, max: 9_700 }),
    });
    fc.assert(
      fc.property(fc.array(epoch, { minLength: 1, maxLength: 12 }), (epochs) => {
        const e = economy();
        for (const x of epochs) {
          const issuedBefore = e.outstanding - e.accounts.emissionPool;
          const outstandingBefore = e.outstanding;
          const rate = exchangeRate({
            computePriceUsdPerCu: 1.2e-5,
            dpnPriceUsd: x.dpnPrice,
            circulation: e.accounts.users,
            demandCu: 1e10,
            rigShare: x.rigShare,
            longTailShare: x.longTailShare,
          });
          const s = e.settleEpoch(Float64Array.from(x.cu), x.served, rate, BigInt(x.burnBps));
          expect(e.outstanding - outstandingBefore).toBe(s.replenished - s.burned);
          expect(e.outstanding - e.accounts.emissionPool - issuedBefore).toBe(s.minted - s.burned);
          e.checkConservation();
        }
      }),
      { numRuns: 60 },
    );
  });
});
