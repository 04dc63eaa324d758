import { type AmmPool, removeLiquidity } from "./amm.ts";
import { isqrt } from "./amount.ts";
import { DpnError } from "./errors.ts";

/**
 * The reserve's interest (docs/protocol.md §Reserve interest), §4.2's "the reserve pool interest
 * is used to repurchase DPN". The reserve's interest is what its liquidity in the AMM pool earns:
 * the swap fees stay in the pool (Uniswap V2), so they show as growth of the liquidity per share,
 * √(x·y) / shares, which only swaps' fees (and roundings in the pool's favour) increase. Between
 * two marks, a holder of S shares earned the shares whose removal brings its liquidity back to
 * what it had at the first mark:
 *
 *     feeShares = ⌊S · (L·Tₘ − Lₘ·T) / (L·Tₘ)⌋        L = √(x·y), T = total shares; ₘ = at the mark
 *
 * Removing them (harvesting) leaves the principal in the pool and returns the fees in both tokens,
 * in the pool's proportion, floored like every removal.
 */

/** The pool's liquidity per share at a moment: √(x·y) (floored) over the total shares. */
export interface LiquidityMark {
  readonly rootK: bigint;
  readonly totalShares: bigint;
}

export interface ReserveInterest {
  /** The holder's shares that are fees earned since the mark (what a harvest removes). */
  readonly feeShares: bigint;
  /** What removing them returns now. */
  readonly dpn: bigint;
  readonly stable: bigint;
  /** The mark the next epoch measures from: the pool's liquidity per share now. */
  readonly mark: LiquidityMark;
}

/** The pool's liquidity per share now (an empty pool has no mark). */
export function liquidityMark(pool: AmmPool): LiquidityMark {
  if (pool.totalShares === 0n) {
    throw new DpnError("AMM_INSUFFICIENT_LIQUIDITY", "The pool has no liquidity yet.", {
      hint: "Seed the pool before measuring what its liquidity earns.",
    });
  }
  return { rootK: isqrt(pool.reserveDpn * pool.reserveStable), totalShares: pool.totalShares };
}

/**
 * What `shares` of the pool earned since `mark` (null: no mark yet, so nothing is counted and
 * measuring starts now), and what harvesting it would return at `nowMs`.
 */
export function reserveInterest(
  pool: AmmPool,
  mark: LiquidityMark | null,
  shares: bigint,
  nowMs: number,
): ReserveInterest {
  const now = liquidityMark(pool);
  const none = { feeShares: 0n, dpn: 0n, stable: 0n, mark: now };
  if (mark === null || shares <= 0n || mark.rootK <= 0n || mark.totalShares <= 0n) return none;
  // L/T − Lₘ/Tₘ over L/T, cross-multiplied so it stays exact; ≤ 0 when nothing was earned
  // (a floored √ can dip by one unit between marks without any trade).
  const grown = now.rootK * mark.totalShares - mark.rootK * now.totalShares;
  if (grown <= 0n) return none;
  const feeShares = (shares * grown) / (now.rootK * mark.totalShares);
  // Dust that would return nothing stays in the pool: it compounds into the position.
  if (feeShares === 0n || (feeShares * pool.reserveDpn) / pool.totalShares === 0n) return none;
  const removed = removeLiquidity(pool, feeShares, Math.max(nowMs, pool.lastUpdateMs));
  return { feeShares, dpn: removed.dpnOut, stable: removed.stableOut, mark: now };
}
