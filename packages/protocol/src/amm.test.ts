import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AMM_INSUFFICIENT_LIQUIDITY,
  AMM_INSUFFICIENT_OUTPUT,
  AMM_INSUFFICIENT_SHARES,
  AMM_INVALID_INPUT,
  AMM_MINIMUM_LIQUIDITY,
  AMM_PARAM_BOUNDS,
  AMM_PRICE_SCALE,
  AMM_SLIPPAGE_EXCEEDED,
  type AmmPool,
  accumulate,
  addLiquidity,
  createPool,
  DEFAULT_AMM_PARAMS,
  maxAmountInForSlippage,
  observe,
  quoteSwap,
  removeLiquidity,
  type SwapSide,
  spotPrice,
  swap,
  tradeToReachPrice,
  twap,
  validateAmmParams,
} from "./amm.ts";
import { ONE_DPN } from "./amount.ts";
import { isDpnError } from "./errors.ts";

const DPN = ONE_DPN;
const STABLE = ONE_DPN; // the stable unit also has 18 decimals inside the pool

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isDpnError(error) ? error.code : `not a DpnError: ${String(error)}`;
  }
  return undefined;
}

function seeded(reserveDpn: bigint, reserveStable: bigint, nowMs = 0): AmmPool {
  return addLiquidity(createPool(nowMs), reserveDpn, reserveStable, nowMs).pool;
}

/** The worked-example pool of docs: 1 000 000 DPN and 2 000 000 stable, price 2.0. */
const example = (): AmmPool => seeded(1_000_000n * DPN, 2_000_000n * STABLE);

const reserve = fc.bigInt({ min: 10n ** 6n, max: 10n ** 30n });
const side = fc.constantFrom<SwapSide>("sell-dpn", "buy-dpn");
/** Swap sizes from dust to twice the input reserve, as parts per million of the reserve. */
const ppm = fc.oneof(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 2_000_000 }));
const wide = { maxSlippageBps: DEFAULT_AMM_PARAMS.maxSlippageBps };

function inputFor(pool: AmmPool, s: SwapSide, partsPerMillion: number, dust: bigint): bigint {
  const reserveIn = s === "sell-dpn" ? pool.reserveDpn : pool.reserveStable;
  return (reserveIn * BigInt(partsPerMillion)) / 1_000_000n + dust;
}

/** Runs a swap; returns undefined when the swap is rejected for a user-facing reason. */
function trySwap(pool: AmmPool, s: SwapSide, amountIn: bigint, nowMs: number) {
  try {
    return swap(pool, s, amountIn, { nowMs, ...wide });
  } catch (error) {
    if (isDpnError(error, AMM_SLIPPAGE_EXCEEDED) || isDpnError(error, AMM_INSUFFICIENT_OUTPUT)) {
      return undefined;
    }
    throw error;
  }
}

describe("liquidity", () => {
  it("mints isqrt(x·y) shares on the first deposit and locks 1000 of them", () => {
    const { pool, shares, refundDpn, refundStable } = addLiquidity(
      createPool(0),
      1_000_000n * DPN,
      2_000_000n * STABLE,
      0,
    );
    expect(pool.totalShares).toBe(1_414_213_562_373_095_048_801_688n);
    expect(shares).toBe(1_414_213_562_373_095_048_800_688n);
    expect(pool.totalShares - shares).toBe(AMM_MINIMUM_LIQUIDITY);
    expect([refundDpn, refundStable]).toEqual([0n, 0n]);
    expect(spotPrice(pool)).toBe(2n * AMM_PRICE_SCALE);
  });

  it("rejects a first deposit that cannot mint more than the locked minimum", () => {
    expect(codeOf(() => addLiquidity(createPool(0), 1000n, 1000n, 0))).toBe(
      AMM_INSUFFICIENT_LIQUIDITY,
    );
  });

  it("takes later deposits in the pool's ratio and refunds the excess", () => {
    const later = addLiquidity(example(), 1_000n * DPN, 2_500n * STABLE, 0);
    expect(later.shares).toBe(1_414_213_562_373_095_048_801n);
    expect(later.dpnUsed).toBe(1_000n * DPN);
    expect(later.stableUsed).toBe(2_000n * STABLE);
    expect(later.refundStable).toBe(500n * STABLE);
    expect(later.refundDpn).toBe(0n);
  });

  it("returns a round trip minus at most one base unit of each token", () => {
    const later = addLiquidity(example(), 1_000n * DPN, 2_500n * STABLE, 0);
    const back = removeLiquidity(later.pool, later.shares, 0);
    expect(back.dpnOut).toBe(1_000n * DPN - 1n);
    expect(back.stableOut).toBe(2_000n * STABLE - 1n);
  });

  it("never lets the locked shares out", () => {
    const pool = example();
    const circulating = pool.totalShares - AMM_MINIMUM_LIQUIDITY;
    expect(codeOf(() => removeLiquidity(pool, circulating + 1n, 0))).toBe(AMM_INSUFFICIENT_SHARES);
    const drained = removeLiquidity(pool, circulating, 0).pool;
    expect(drained.reserveDpn > 0n && drained.reserveStable > 0n).toBe(true);
    expect(drained.totalShares).toBe(AMM_MINIMUM_LIQUIDITY);
  });

  it("add then remove never returns more than was put in", () => {
    fc.assert(
      fc.property(reserve, reserve, reserve, reserve, (x, y, a, b) => {
        const pool = seeded(x, y);
        let added: ReturnType<typeof addLiquidity>;
        try {
          added = addLiquidity(pool, a, b, 0);
        } catch (error) {
          if (isDpnError(error, AMM_INSUFFICIENT_LIQUIDITY)) return;
          throw error;
        }
        expect(added.dpnUsed <= a && added.stableUsed <= b).toBe(true);
        expect(added.pool.totalShares).toBe(pool.totalShares + added.shares);
        const back = removeLiquidity(added.pool, added.shares, 0);
        expect(back.dpnOut <= added.dpnUsed).toBe(true);
        expect(back.stableOut <= added.stableUsed).toBe(true);
        // The remaining holders' share value never drops: k per share² does not decrease.
        expect(
          back.pool.reserveDpn * back.pool.reserveStable * pool.totalShares ** 2n >=
            pool.reserveDpn * pool.reserveStable * back.pool.totalShares ** 2n,
        ).toBe(true);
      }),
    );
  });
});

describe("swaps", () => {
  it("sells 1 000 DPN for 1 992.01 stable with a 0.0996% price impact", () => {
    const quote = quoteSwap(example(), "sell-dpn", 1_000n * DPN);
    expect(quote.amountOut).toBe(1_992_013_962_079_806_432_986n);
    expect(quote.fee).toBe(3n * DPN);
    expect(quote.priceImpact).toBeCloseTo(997 / 1_000_997, 15);
    expect(quote.executionPrice).toBeCloseTo(1.99201396, 8);
    expect(quote.spotPriceAfter).toBe(1_996_011_974_063_856_337n);
  });

  it("buys 996.01 DPN for 2 000 stable with the same price impact", () => {
    const quote = quoteSwap(example(), "buy-dpn", 2_000n * STABLE);
    expect(quote.amountOut).toBe(996_006_981_039_903_216_493n);
    expect(quote.priceImpact).toBeCloseTo(997 / 1_000_997, 15);
  });

  it("admits at most 0.70706% of the reserve under the default 0.7% guard", () => {
    const pool = example();
    const largest = maxAmountInForSlippage(pool, "sell-dpn");
    expect(largest).toBe(7_070_557_089_193_057_521_002n);
    expect(swap(pool, "sell-dpn", largest, { nowMs: 0 }).quote.priceImpact).toBeLessThanOrEqual(
      0.007,
    );
    expect(codeOf(() => swap(pool, "sell-dpn", largest + 1n, { nowMs: 0 }))).toBe(
      AMM_SLIPPAGE_EXCEEDED,
    );
    expect(maxAmountInForSlippage(pool, "buy-dpn")).toBe(14_141_114_178_386_115_042_004n);
  });

  it("rejects a 1% trade by default and executes it when the caller widens the guard", () => {
    const pool = example();
    expect(codeOf(() => swap(pool, "sell-dpn", 10_000n * DPN, { nowMs: 0 }))).toBe(
      AMM_SLIPPAGE_EXCEEDED,
    );
    const wider = swap(pool, "sell-dpn", 10_000n * DPN, { nowMs: 0, maxSlippageBps: 100n });
    expect(wider.quote.amountOut).toBe(19_743_160_687_941_225_977_009n);
    expect(wider.quote.priceImpact).toBeCloseTo(9_970 / 1_009_970, 15);
  });

  it("refuses a guard wider than the governance maximum", () => {
    expect(
      codeOf(() => swap(example(), "sell-dpn", DPN, { nowMs: 0, maxSlippageBps: 5_001n })),
    ).toBe(AMM_INVALID_INPUT);
  });

  it("rejects a swap whose output is below minAmountOut", () => {
    const options = { nowMs: 0, minAmountOut: 1_992_013_962_079_806_432_987n };
    expect(codeOf(() => swap(example(), "sell-dpn", 1_000n * DPN, options))).toBe(
      AMM_SLIPPAGE_EXCEEDED,
    );
  });

  it("rejects zero, dust and empty-pool swaps with distinct codes", () => {
    expect(codeOf(() => quoteSwap(example(), "sell-dpn", 0n))).toBe(AMM_INVALID_INPUT);
    expect(codeOf(() => quoteSwap(example(), "buy-dpn", 1n))).toBe(AMM_INSUFFICIENT_OUTPUT);
    expect(codeOf(() => quoteSwap(createPool(0), "sell-dpn", DPN))).toBe(
      AMM_INSUFFICIENT_LIQUIDITY,
    );
    expect(codeOf(() => spotPrice(createPool(0)))).toBe(AMM_INSUFFICIENT_LIQUIDITY);
    expect(codeOf(() => quoteSwap(example(), "sideways" as SwapSide, DPN))).toBe(AMM_INVALID_INPUT);
  });

  it("never decreases k and never empties a reserve across any swap sequence", () => {
    fc.assert(
      fc.property(
        reserve,
        reserve,
        fc.array(fc.tuple(side, ppm, fc.bigInt({ min: 0n, max: 1000n })), { maxLength: 30 }),
        (x, y, trades) => {
          let pool = seeded(x, y);
          let nowMs = 0;
          for (const [s, parts, dust] of trades) {
            nowMs += 1000;
            const before = pool;
            const result = trySwap(pool, s, inputFor(pool, s, parts, dust) || 1n, nowMs);
            if (result === undefined) continue;
            pool = result.pool;
            const reserveOut = s === "sell-dpn" ? before.reserveStable : before.reserveDpn;
            expect(result.quote.amountOut < reserveOut).toBe(true);
            expect(pool.reserveDpn > 0n && pool.reserveStable > 0n).toBe(true);
            expect(
              pool.reserveDpn * pool.reserveStable >= before.reserveDpn * before.reserveStable,
            ).toBe(true);
          }
        },
      ),
    );
  });

  it("never profits from a swap followed by the reverse swap", () => {
    fc.assert(
      fc.property(reserve, reserve, side, ppm, (x, y, s, parts) => {
        const pool = seeded(x, y);
        const amountIn = inputFor(pool, s, parts, 1n);
        const first = trySwap(pool, s, amountIn, 0);
        if (first === undefined) return;
        const reverse: SwapSide = s === "sell-dpn" ? "buy-dpn" : "sell-dpn";
        const second = trySwap(first.pool, reverse, first.quote.amountOut, 0);
        if (second === undefined) return;
        expect(second.quote.amountOut <= amountIn).toBe(true);
      }),
    );
  });

  it("admits exactly the inputs up to maxAmountInForSlippage", () => {
    fc.assert(
      fc.property(reserve, reserve, side, fc.bigInt({ min: 1n, max: 5_000n }), (x, y, s, guard) => {
        const pool = seeded(x, y);
        const largest = maxAmountInForSlippage(pool, s, guard);
        const options = { nowMs: 0, maxSlippageBps: guard };
        expect(codeOf(() => swap(pool, s, largest + 1n, options))).toBe(AMM_SLIPPAGE_EXCEEDED);
        const code = codeOf(() => swap(pool, s, largest, options));
        // The largest admitted input may still be dust (zero output) or zero.
        expect([undefined, AMM_INSUFFICIENT_OUTPUT, AMM_INVALID_INPUT]).toContain(code);
      }),
    );
  });
});

describe("TWAP", () => {
  it("averages 2.0 for 60 s and 1.996 for 120 s to 1.99734", () => {
    const pool = example();
    const start = observe(pool, 0);
    const moved = swap(pool, "sell-dpn", 1_000n * DPN, { nowMs: 60_000 }).pool;
    const end = observe(moved, 180_000);
    expect(twap(start, end)).toBe(1_997_341_316_042_570_891n);
  });

  it("returns a constant price exactly, however the time is split", () => {
    fc.assert(
      fc.property(
        reserve,
        reserve,
        fc.array(fc.integer({ min: 0, max: 10_000_000 }), { minLength: 2, maxLength: 20 }),
        fc.nat(),
        (x, y, steps, pick) => {
          let pool = seeded(x, y, 5);
          const observations = [observe(pool, 5)];
          let nowMs = 5;
          for (const step of steps) {
            nowMs += step + 1;
            pool = accumulate(pool, nowMs);
            observations.push(observe(pool, nowMs));
          }
          const i = pick % (observations.length - 1);
          const earlier = observations[i];
          const later = observations[observations.length - 1];
          if (earlier === undefined || later === undefined) throw new Error("unreachable");
          expect(twap(earlier, later)).toBe(spotPrice(pool));
        },
      ),
    );
  });

  it("refuses time that runs backwards and observations of an empty pool", () => {
    const pool = seeded(DPN, DPN, 1_000);
    expect(codeOf(() => accumulate(pool, 999))).toBe(AMM_INVALID_INPUT);
    expect(codeOf(() => observe(createPool(0), 10))).toBe(AMM_INSUFFICIENT_LIQUIDITY);
    const a = observe(pool, 1_000);
    expect(codeOf(() => twap(a, a))).toBe(AMM_INVALID_INPUT);
  });
});

describe("tradeToReachPrice", () => {
  it("buys 49 464.35 stable worth of DPN to lift the price from 2.0 to 2.1", () => {
    const pool = example();
    const trade = tradeToReachPrice(pool, 2_100_000_000_000_000_000n);
    expect(trade).toEqual({ side: "buy-dpn", amountIn: 49_464_351_061_624_978_200_396n });
    const after = swap(pool, trade.side, trade.amountIn, { nowMs: 0, maxSlippageBps: 5_000n }).pool;
    expect(spotPrice(after)).toBe(2_099_999_999_999_999_999n);
  });

  it("sells 26 017.38 DPN to push the price from 2.0 to 1.9", () => {
    const pool = example();
    const trade = tradeToReachPrice(pool, 1_900_000_000_000_000_000n);
    expect(trade).toEqual({ side: "sell-dpn", amountIn: 26_017_378_895_732_658_131_457n });
    const after = swap(pool, trade.side, trade.amountIn, { nowMs: 0, maxSlippageBps: 5_000n }).pool;
    expect(spotPrice(after)).toBe(1_900_000_000_000_000_000n);
  });

  it("returns a zero trade at the current price", () => {
    expect(tradeToReachPrice(example(), 2n * AMM_PRICE_SCALE).amountIn).toBe(0n);
  });

  it("lands on the target without crossing it", () => {
    const big = fc.bigInt({ min: 10n ** 15n, max: 10n ** 30n });
    fc.assert(
      fc.property(big, big, fc.integer({ min: 500_000, max: 2_000_000 }), (x, y, targetPpm) => {
        const pool = seeded(x, y);
        const target = (spotPrice(pool) * BigInt(targetPpm)) / 1_000_000n;
        fc.pre(target > 0n);
        const trade = tradeToReachPrice(pool, target);
        if (trade.amountIn === 0n) return;
        const result = trySwap(pool, trade.side, trade.amountIn, 0);
        if (result === undefined) return;
        const after = result.pool;
        // Exact comparisons of reserveStable / reserveDpn with target / 10^18.
        const lhs = after.reserveStable * AMM_PRICE_SCALE;
        const rhs = target * after.reserveDpn;
        if (trade.side === "buy-dpn") expect(lhs <= rhs).toBe(true);
        else expect(lhs >= rhs).toBe(true);
        const reached = Number(lhs) / Number(rhs);
        expect(Math.abs(reached - 1)).toBeLessThan(1e-9);
      }),
    );
  });
});

describe("parameters", () => {
  it("ships defaults inside their governance bounds", () => {
    expect(validateAmmParams(DEFAULT_AMM_PARAMS)).toBe(DEFAULT_AMM_PARAMS);
    for (const key of Object.keys(AMM_PARAM_BOUNDS) as (keyof typeof AMM_PARAM_BOUNDS)[]) {
      const { min, max } = AMM_PARAM_BOUNDS[key];
      expect(DEFAULT_AMM_PARAMS[key] >= min && DEFAULT_AMM_PARAMS[key] <= max).toBe(true);
    }
  });

  it("rejects a fee above 1% and a default guard wider than the maximum", () => {
    expect(codeOf(() => validateAmmParams({ ...DEFAULT_AMM_PARAMS, feeBps: 101n }))).toBe(
      AMM_INVALID_INPUT,
    );
    expect(
      codeOf(() => validateAmmParams({ feeBps: 30n, slippageBps: 400n, maxSlippageBps: 300n })),
    ).toBe(AMM_INVALID_INPUT);
  });
});
