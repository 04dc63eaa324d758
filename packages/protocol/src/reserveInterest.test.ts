import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type AmmPool,
  addLiquidity,
  createPool,
  DEFAULT_AMM_PARAMS,
  removeLiquidity,
  type SwapSide,
  swap,
} from "./amm.ts";
import { isqrt, ONE_DPN } from "./amount.ts";
import { liquidityMark, reserveInterest } from "./reserveInterest.ts";

/** A pool at 0.15 stable/DPN: 1M DPN from one provider, 500k DPN from the reserve. */
function seeded(): { pool: AmmPool; reserveShares: bigint } {
  const first = addLiquidity(createPool(0), 1_000_000n * ONE_DPN, 150_000n * ONE_DPN, 0);
  const second = addLiquidity(first.pool, 500_000n * ONE_DPN, 75_000n * ONE_DPN, 0);
  return { pool: second.pool, reserveShares: second.shares };
}

const MAX_GUARD = { nowMs: 1, maxSlippageBps: DEFAULT_AMM_PARAMS.maxSlippageBps };

describe("reserve interest", () => {
  it("counts nothing before the first mark, and nothing when no one traded", () => {
    const { pool, reserveShares } = seeded();
    expect(reserveInterest(pool, null, reserveShares, 0).feeShares).toBe(0n);
    const mark = liquidityMark(pool);
    const later = addLiquidity(pool, 10_000n * ONE_DPN, 1_500n * ONE_DPN, 5).pool;
    expect(reserveInterest(later, mark, reserveShares, 5)).toMatchObject({
      feeShares: 0n,
      dpn: 0n,
      stable: 0n,
    });
  });

  it("is the reserve's share of the fees: a third of the pool earns a third of a round trip's fees", () => {
    const { pool, reserveShares } = seeded();
    const mark = liquidityMark(pool);
    const bought = swap(pool, "buy-dpn", 1_000n * ONE_DPN, MAX_GUARD);
    const sold = swap(bought.pool, "sell-dpn", bought.quote.amountOut, MAX_GUARD);
    const interest = reserveInterest(sold.pool, mark, reserveShares, 1);
    expect(interest.feeShares).toBeGreaterThan(0n);
    // Valued at the pool's price, the interest is a third of the fees paid (0.3% of each leg),
    // to within the roundings of the two swaps and the removal.
    const price = Number(sold.pool.reserveStable) / Number(sold.pool.reserveDpn);
    const value = Number(interest.stable) + Number(interest.dpn) * price;
    const fees = 0.003 * 1_000e18 + 0.003 * Number(bought.quote.amountOut) * price;
    expect(value / (fees / 3)).toBeCloseTo(1, 2);
    // What the harvest returns is exactly what removing the fee shares returns.
    const removed = removeLiquidity(sold.pool, interest.feeShares, 1);
    expect([interest.dpn, interest.stable]).toEqual([removed.dpnOut, removed.stableOut]);
  });

  it("harvesting leaves the reserve's principal liquidity in the pool (property)", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            side: fc.constantFrom<SwapSide>("buy-dpn", "sell-dpn"),
            amount: fc.bigInt({ min: ONE_DPN, max: 5_000n * ONE_DPN }),
          }),
          { minLength: 1, maxLength: 8 },
        ),
        (trades) => {
          const { pool, reserveShares } = seeded();
          const mark = liquidityMark(pool);
          let now = pool;
          for (const t of trades) now = swap(now, t.side, t.amount, MAX_GUARD).pool;
          const interest = reserveInterest(now, mark, reserveShares, 1);
          expect(interest.feeShares).toBeLessThan(reserveShares);
          if (interest.feeShares === 0n) return;
          const after = removeLiquidity(now, interest.feeShares, 1).pool;
          // Liquidity of the shares left ≥ liquidity of all the shares at the mark.
          const left =
            (reserveShares - interest.feeShares) * isqrt(after.reserveDpn * after.reserveStable);
          const principal = reserveShares * mark.rootK;
          expect(left * mark.totalShares).toBeGreaterThanOrEqual(principal * after.totalShares);
          // And the next epoch starts from the harvest's mark, so nothing is counted twice.
          expect(reserveInterest(after, liquidityMark(after), reserveShares, 1).feeShares).toBe(0n);
        },
      ),
      { numRuns: 100 },
    );
  });
});
