import {
  type AmmPool,
  addLiquidity,
  createPool,
  DEFAULT_AMM_PARAMS,
  dpnToNumber,
  liquidityMark,
  ONE_DPN,
  quoteSwap,
  removeLiquidity,
  reserveInterest,
  swap,
} from "@dpn/protocol";
import type { Benchmark, BenchRow } from "./harness.ts";

/**
 * What does the reserve's interest buy back (docs/adr/0019-supply-and-reserve-interest.md)? The
 * default pool (5M DPN / 750k stable at the 0.15 anchor) with the reserve holding a share of it;
 * traders make round trips (buy DPN with 3,000 stable, sell it back: within the 0.7% guard) for a
 * given volume in one epoch; the epoch's buyback then harvests the reserve's fees, swaps their
 * stable side for DPN and burns it with their DPN side. Exact pool maths (the protocol's), so the
 * figures are deterministic; the interest is compared with the fees the traders paid.
 */
const POOL_DPN = 5_000_000n * ONE_DPN;
const POOL_STABLE = 750_000n * ONE_DPN;
const LEG_STABLE = 3_000n * ONE_DPN;

function seed(reserveBps: bigint): { pool: AmmPool; reserveShares: bigint } {
  const reserveDpn = (POOL_DPN * reserveBps) / 10_000n;
  const reserveStable = (POOL_STABLE * reserveBps) / 10_000n;
  const first = addLiquidity(createPool(0), POOL_DPN - reserveDpn, POOL_STABLE - reserveStable, 0);
  if (reserveBps === 0n) return { pool: first.pool, reserveShares: 0n };
  const second = addLiquidity(first.pool, reserveDpn, reserveStable, 0);
  return { pool: second.pool, reserveShares: second.shares };
}

const bench: Benchmark = async ({ quick }) => {
  const volumes = quick ? [100_000] : [100_000, 1_000_000];
  const rows: BenchRow[] = [];
  for (const volumeUsd of volumes) {
    for (const reserveBps of [0n, 2_500n, 5_000n, 7_500n]) {
      const { pool: seeded, reserveShares } = seed(reserveBps);
      const mark = liquidityMark(seeded);
      let pool = seeded;
      let feesUsd = 0;
      let traded = 0n;
      const volume = BigInt(volumeUsd) * ONE_DPN;
      while (traded < volume) {
        const bought = swap(pool, "buy-dpn", LEG_STABLE, { nowMs: 1 });
        const sold = swap(bought.pool, "sell-dpn", bought.quote.amountOut, { nowMs: 1 });
        const price = dpnToNumber((sold.pool.reserveStable * ONE_DPN) / sold.pool.reserveDpn);
        feesUsd += dpnToNumber(bought.quote.fee) + dpnToNumber(sold.quote.fee) * price;
        traded += LEG_STABLE + sold.quote.amountOut;
        pool = sold.pool;
      }
      const interest = reserveInterest(pool, mark, reserveShares, 1);
      const price = dpnToNumber((pool.reserveStable * ONE_DPN) / pool.reserveDpn);
      const interestUsd = dpnToNumber(interest.stable) + dpnToNumber(interest.dpn) * price;
      let burnedDpn = 0;
      let priceAfter = price;
      if (interest.feeShares > 0n) {
        const harvested = removeLiquidity(pool, interest.feeShares, 1).pool;
        const bought =
          interest.stable > 0n
            ? quoteSwap(harvested, "buy-dpn", interest.stable, DEFAULT_AMM_PARAMS)
            : undefined;
        burnedDpn = dpnToNumber(interest.dpn + (bought?.amountOut ?? 0n));
        priceAfter = bought === undefined ? price : dpnToNumber(bought.spotPriceAfter);
      }
      rows.push({
        "volume (USD)": volumeUsd,
        "reserve's pool share": `${Number(reserveBps) / 100}%`,
        "fees paid (USD)": Math.round(feesUsd),
        "interest (USD)": Math.round(interestUsd),
        "interest / fees": feesUsd > 0 ? Number((interestUsd / feesUsd).toFixed(4)) : 0,
        "DPN burned": Math.round(burnedDpn),
        "price move of the buyback": `${(((priceAfter - price) / price) * 100).toFixed(4)}%`,
      });
    }
  }
  return {
    name: "reserveInterest",
    question:
      "How much of the traders' fees is the reserve's interest, and how much DPN does it buy back and burn?",
    rows,
    notes: [
      "Round trips of 3,000 stable through the default 5M DPN / 750k stable pool, one epoch; 0.3% fee per leg.",
      "Interest is valued at the pool price; the buyback burns the interest's DPN side plus the DPN its stable side buys.",
    ],
  };
};

export default bench;
