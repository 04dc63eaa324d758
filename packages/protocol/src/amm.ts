import { BPS_DENOMINATOR, checkAmount, isqrt, MAX_AMOUNT, ONE_DPN } from "./amount.ts";
import { DpnError } from "./errors.ts";
import { checkBounds, oneOf } from "./validate.ts";

/**
 * The DPN / stable-unit liquidity pool (docs/protocol.md §AMM). §4.5: "Adopt the AMM curve:
 * x × y = k" with "Slippage < 0.7%". Uniswap V2 semantics in exact bigint arithmetic: the fee
 * stays in the pool, every rounding goes against the trader or the liquidity provider, so
 * k = reserveDpn × reserveStable never decreases. Both reserves are 18-decimal base units; a
 * stable token with other decimals is rescaled by its adapter before it reaches the pool.
 */

export const AMM_INVALID_INPUT = "AMM_INVALID_INPUT";
/** The pool has no liquidity, or a deposit or withdrawal is too small to mint or return anything. */
export const AMM_INSUFFICIENT_LIQUIDITY = "AMM_INSUFFICIENT_LIQUIDITY";
/** A removal burns more shares than are in circulation. */
export const AMM_INSUFFICIENT_SHARES = "AMM_INSUFFICIENT_SHARES";
/** A swap would pay out zero base units (the input is dust). */
export const AMM_INSUFFICIENT_OUTPUT = "AMM_INSUFFICIENT_OUTPUT";
/** The price impact exceeds the guard, or the output is below the caller's minimum. */
export const AMM_SLIPPAGE_EXCEEDED = "AMM_SLIPPAGE_EXCEEDED";
/** An internal invariant (k never decreases, reserves stay > 0) failed: a bug, never user input. */
export const AMM_INVARIANT_VIOLATED = "AMM_INVARIANT_VIOLATED";

/**
 * Shares minted by the first deposit and locked forever (Uniswap V2's AMM_MINIMUM_LIQUIDITY). They
 * make the first share expensive to inflate and keep both reserves above zero after any removal,
 * so the price and the TWAP stay defined for the life of the pool. Not governable: changing it
 * after the first deposit would change nothing.
 */
export const AMM_MINIMUM_LIQUIDITY = 1000n;

/** Prices are stable base units per whole DPN scaled by 10^18: 2.5 stable/DPN = 2.5e18. */
export const AMM_PRICE_SCALE = ONE_DPN;

export interface AmmParams {
  /** Swap fee in basis points of the input, kept in the pool for liquidity providers. */
  readonly feeBps: bigint;
  /** Default price-impact guard: §4.5 "Slippage < 0.7%" = 70 bps. */
  readonly slippageBps: bigint;
  /** The widest guard a caller may ask for. */
  readonly maxSlippageBps: bigint;
}

export const DEFAULT_AMM_PARAMS: AmmParams = {
  feeBps: 30n,
  slippageBps: 70n,
  maxSlippageBps: 5_000n,
};

/**
 * Governance bounds (inclusive). The fee stays below 1% so the pool remains usable for the
 * reserve's anti-decoupling trades; the default guard stays within 0.01%–5%; no caller may
 * accept more than 90% price impact, which would hand most of the input to arbitrageurs.
 */
export const AMM_PARAM_BOUNDS: {
  readonly [K in keyof AmmParams]: { readonly min: AmmParams[K]; readonly max: AmmParams[K] };
} = {
  feeBps: { min: 0n, max: 100n },
  slippageBps: { min: 1n, max: 500n },
  maxSlippageBps: { min: 70n, max: 9_000n },
};

/**
 * The widest guard any parameter set allows (90%): the bound of every swap message's
 * `maxSlippageBps`, in the wire schema and the CLI. What a node accepts is its governed
 * `amm.maxSlippageBps`, at most this; a wider guard is refused with a code naming that value.
 */
export const SLIPPAGE_BPS_LIMIT = Number(AMM_PARAM_BOUNDS.maxSlippageBps.max);

export interface AmmPool {
  readonly reserveDpn: bigint;
  readonly reserveStable: bigint;
  /** All shares, including the AMM_MINIMUM_LIQUIDITY locked by the first deposit. */
  readonly totalShares: bigint;
  /** Σ spotPrice × elapsed ms (price scaled by 10^18, time in ms): Uniswap V2's accumulator. */
  readonly priceCumulative: bigint;
  readonly lastUpdateMs: number;
}

/** sell-dpn: DPN in, stable out. buy-dpn: stable in, DPN out (the same words as antiDecoupling). */
export type SwapSide = "sell-dpn" | "buy-dpn";
export const SWAP_SIDES: readonly SwapSide[] = ["sell-dpn", "buy-dpn"];

export interface SwapQuote {
  readonly side: SwapSide;
  readonly amountIn: bigint;
  readonly amountOut: bigint;
  /** floor(amountIn × feeBps / 10 000), informational: the pool keeps the whole amountIn. */
  readonly fee: bigint;
  /** Fee excluded: 1 − (ideal output / (input after fee × spot price)) = a′ / (reserveIn + a′). */
  readonly priceImpact: number;
  /** What the trader actually gets, fee included, in stable per DPN. */
  readonly executionPrice: number;
  readonly spotPriceBefore: bigint;
  readonly spotPriceAfter: bigint;
}

export interface SwapOptions {
  readonly nowMs: number;
  /** Price-impact guard in bps; defaults to params.slippageBps, at most params.maxSlippageBps. */
  readonly maxSlippageBps?: bigint;
  /** Reject unless at least this much comes out (a guard against moves before execution). */
  readonly minAmountOut?: bigint;
}

export interface Observation {
  readonly priceCumulative: bigint;
  readonly timestampMs: number;
}

function invalid(field: string, value: unknown, expected: string): never {
  throw new DpnError(AMM_INVALID_INPUT, `${field} must be ${expected}, got ${String(value)}.`, {
    hint: `Pass a valid ${field}.`,
    details: { field, value: typeof value === "bigint" ? value : String(value) },
  });
}

function amountArg(field: string, value: bigint): bigint {
  if (typeof value !== "bigint" || value < 0n) invalid(field, value, "a bigint amount >= 0");
  return checkAmount(field, value);
}

function timeArg(field: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) invalid(field, value, "a whole number of ms >= 0");
  return value;
}

/** Checks governance parameters against AMM_PARAM_BOUNDS (docs/protocol.md §AMM). */
export function validateAmmParams(params: AmmParams): AmmParams {
  checkBounds(params, AMM_PARAM_BOUNDS, AMM_INVALID_INPUT, "AMM");
  if (params.slippageBps > params.maxSlippageBps) {
    invalid(
      "params.slippageBps",
      params.slippageBps,
      `<= maxSlippageBps (${params.maxSlippageBps})`,
    );
  }
  return params;
}

function checkPool(pool: AmmPool): AmmPool {
  amountArg("pool.reserveDpn", pool.reserveDpn);
  amountArg("pool.reserveStable", pool.reserveStable);
  amountArg("pool.totalShares", pool.totalShares);
  if (typeof pool.priceCumulative !== "bigint" || pool.priceCumulative < 0n) {
    invalid("pool.priceCumulative", pool.priceCumulative, "a bigint >= 0");
  }
  timeArg("pool.lastUpdateMs", pool.lastUpdateMs);
  const empty = pool.reserveDpn === 0n && pool.reserveStable === 0n && pool.totalShares === 0n;
  const live =
    pool.reserveDpn > 0n && pool.reserveStable > 0n && pool.totalShares >= AMM_MINIMUM_LIQUIDITY;
  if (!empty && !live) {
    throw new DpnError(AMM_INVALID_INPUT, "The pool state is inconsistent.", {
      hint: "A pool is either empty (all zero) or has both reserves > 0 and shares >= 1000; pass a state produced by this module.",
      details: {
        reserveDpn: pool.reserveDpn,
        reserveStable: pool.reserveStable,
        totalShares: pool.totalShares,
      },
    });
  }
  return pool;
}

function requireLiquidity(pool: AmmPool): void {
  if (pool.totalShares === 0n) {
    throw new DpnError(AMM_INSUFFICIENT_LIQUIDITY, "The pool has no liquidity yet.", {
      hint: "Make the first deposit with addLiquidity before quoting, swapping or reading a price.",
    });
  }
}

/** An empty pool that starts its clock at `nowMs` (docs/protocol.md §AMM). */
export function createPool(nowMs: number): AmmPool {
  timeArg("nowMs", nowMs);
  return {
    reserveDpn: 0n,
    reserveStable: 0n,
    totalShares: 0n,
    priceCumulative: 0n,
    lastUpdateMs: nowMs,
  };
}

/**
 * Spot price in stable per DPN, scaled by 10^18 and floored (docs/protocol.md §AMM).
 * `dpnToNumber(spotPrice(pool))` is the same price as a float.
 */
export function spotPrice(pool: AmmPool): bigint {
  checkPool(pool);
  requireLiquidity(pool);
  return (pool.reserveStable * AMM_PRICE_SCALE) / pool.reserveDpn;
}

function priceOf(reserveDpn: bigint, reserveStable: bigint): bigint {
  return reserveDpn === 0n ? 0n : (reserveStable * AMM_PRICE_SCALE) / reserveDpn;
}

function elapsedMs(pool: AmmPool, nowMs: number): number {
  timeArg("nowMs", nowMs);
  if (nowMs < pool.lastUpdateMs) {
    invalid("nowMs", nowMs, `>= the pool's lastUpdateMs (${pool.lastUpdateMs})`);
  }
  return nowMs - pool.lastUpdateMs;
}

/**
 * Advances the TWAP accumulator to `nowMs` with the price that held since the last update
 * (docs/protocol.md §AMM). Every state change calls it first, as Uniswap V2's _update does, so
 * a trade moves the accumulator only from the next instant on and cannot bias its own window.
 */
export function accumulate(pool: AmmPool, nowMs: number): AmmPool {
  checkPool(pool);
  const elapsed = BigInt(elapsedMs(pool, nowMs));
  // An empty pool has no price; it accrues nothing (observe() refuses to start a window there).
  const increment = priceOf(pool.reserveDpn, pool.reserveStable) * elapsed;
  return { ...pool, priceCumulative: pool.priceCumulative + increment, lastUpdateMs: nowMs };
}

/** The accumulator as of `nowMs`, without changing the pool (docs/protocol.md §AMM). */
export function observe(pool: AmmPool, nowMs: number): Observation {
  checkPool(pool);
  requireLiquidity(pool);
  const { priceCumulative, lastUpdateMs } = accumulate(pool, nowMs);
  return { priceCumulative, timestampMs: lastUpdateMs };
}

/**
 * Time-weighted average spot price between two observations of the same pool, scaled by 10^18
 * and floored (docs/protocol.md §AMM).
 */
export function twap(earlier: Observation, later: Observation): bigint {
  timeArg("earlier.timestampMs", earlier.timestampMs);
  timeArg("later.timestampMs", later.timestampMs);
  if (later.timestampMs <= earlier.timestampMs) {
    invalid(
      "later.timestampMs",
      later.timestampMs,
      `> earlier.timestampMs (${earlier.timestampMs})`,
    );
  }
  if (typeof earlier.priceCumulative !== "bigint" || earlier.priceCumulative < 0n) {
    invalid("earlier.priceCumulative", earlier.priceCumulative, "a bigint >= 0");
  }
  if (
    typeof later.priceCumulative !== "bigint" ||
    later.priceCumulative < earlier.priceCumulative
  ) {
    invalid("later.priceCumulative", later.priceCumulative, "a bigint >= earlier.priceCumulative");
  }
  return (
    (later.priceCumulative - earlier.priceCumulative) /
    BigInt(later.timestampMs - earlier.timestampMs)
  );
}

function reservesFor(pool: AmmPool, side: SwapSide): { reserveIn: bigint; reserveOut: bigint } {
  return side === "sell-dpn"
    ? { reserveIn: pool.reserveDpn, reserveOut: pool.reserveStable }
    : { reserveIn: pool.reserveStable, reserveOut: pool.reserveDpn };
}

/**
 * What a swap of `amountIn` would pay out (docs/protocol.md §AMM). Uniswap V2's getAmountOut:
 * out = floor(a·(1−f)·reserveOut / (reserveIn + a·(1−f))), so the pool keeps the fee and the
 * rounding, and out < reserveOut always.
 */
export function quoteSwap(
  pool: AmmPool,
  side: SwapSide,
  amountIn: bigint,
  params: AmmParams = DEFAULT_AMM_PARAMS,
): SwapQuote {
  checkPool(pool);
  oneOf("side", side, SWAP_SIDES, AMM_INVALID_INPUT);
  amountArg("amountIn", amountIn);
  validateAmmParams(params);
  requireLiquidity(pool);
  if (amountIn === 0n) invalid("amountIn", amountIn, "> 0");
  const { reserveIn, reserveOut } = reservesFor(pool, side);
  checkAmount("reserveIn + amountIn", reserveIn + amountIn);
  const inWithFee = amountIn * (BPS_DENOMINATOR - params.feeBps);
  const denominator = reserveIn * BPS_DENOMINATOR + inWithFee;
  const amountOut = (inWithFee * reserveOut) / denominator;
  if (amountOut === 0n) {
    throw new DpnError(
      AMM_INSUFFICIENT_OUTPUT,
      `A swap of ${amountIn} base units pays out nothing.`,
      {
        hint: "The input is dust at this pool's price; swap a larger amount.",
        details: { side, amountIn, reserveIn, reserveOut },
      },
    );
  }
  const next = applySwap(pool, side, amountIn, amountOut);
  const dpnIn = side === "sell-dpn";
  const dpnAmount = dpnIn ? amountIn : amountOut;
  const stableAmount = dpnIn ? amountOut : amountIn;
  return {
    side,
    amountIn,
    amountOut,
    fee: (amountIn * params.feeBps) / BPS_DENOMINATOR,
    priceImpact: Number(inWithFee) / Number(denominator),
    executionPrice: Number(stableAmount) / Number(dpnAmount),
    spotPriceBefore: priceOf(pool.reserveDpn, pool.reserveStable),
    spotPriceAfter: priceOf(next.reserveDpn, next.reserveStable),
  };
}

function applySwap(pool: AmmPool, side: SwapSide, amountIn: bigint, amountOut: bigint): AmmPool {
  const next =
    side === "sell-dpn"
      ? {
          ...pool,
          reserveDpn: pool.reserveDpn + amountIn,
          reserveStable: pool.reserveStable - amountOut,
        }
      : {
          ...pool,
          reserveDpn: pool.reserveDpn - amountOut,
          reserveStable: pool.reserveStable + amountIn,
        };
  // An assertion (TigerBeetle style): the formula guarantees both, so a failure is a bug.
  if (
    next.reserveDpn <= 0n ||
    next.reserveStable <= 0n ||
    next.reserveDpn * next.reserveStable < pool.reserveDpn * pool.reserveStable
  ) {
    throw new DpnError(AMM_INVARIANT_VIOLATED, "A swap would decrease k or empty a reserve.", {
      hint: "This is a bug in the AMM; report it with the details.",
      details: {
        side,
        amountIn,
        amountOut,
        reserveDpn: pool.reserveDpn,
        reserveStable: pool.reserveStable,
      },
    });
  }
  return next;
}

/**
 * Executes a swap (docs/protocol.md §AMM): accrues the TWAP to `nowMs`, then trades if the price
 * impact is within the guard (default 0.7%, §4.5) and the output meets `minAmountOut`.
 */
export function swap(
  pool: AmmPool,
  side: SwapSide,
  amountIn: bigint,
  options: SwapOptions,
  params: AmmParams = DEFAULT_AMM_PARAMS,
): { pool: AmmPool; quote: SwapQuote } {
  const accrued = accumulate(pool, options.nowMs);
  const quote = quoteSwap(accrued, side, amountIn, params);
  const guardBps = options.maxSlippageBps ?? params.slippageBps;
  if (typeof guardBps !== "bigint" || guardBps < 0n || guardBps > params.maxSlippageBps) {
    invalid("maxSlippageBps", guardBps, `a bigint in [0, ${params.maxSlippageBps}]`);
  }
  const { reserveIn } = reservesFor(accrued, side);
  const inWithFee = amountIn * (BPS_DENOMINATOR - params.feeBps);
  // Exact form of priceImpact <= guard: a′ / (reserveIn + a′) <= guardBps / 10 000.
  if (inWithFee * BPS_DENOMINATOR > guardBps * (reserveIn * BPS_DENOMINATOR + inWithFee)) {
    const largest = maxAmountInForSlippage(accrued, side, guardBps, params);
    throw new DpnError(
      AMM_SLIPPAGE_EXCEEDED,
      `Price impact ${(quote.priceImpact * 100).toFixed(4)}% exceeds the ${guardBps} bps guard.`,
      {
        hint: `Trade at most ${largest} base units at once, split the trade, or widen maxSlippageBps (up to ${params.maxSlippageBps}).`,
        details: { side, amountIn, guardBps, largestAmountIn: largest },
      },
    );
  }
  if (options.minAmountOut !== undefined) {
    amountArg("minAmountOut", options.minAmountOut);
    if (quote.amountOut < options.minAmountOut) {
      throw new DpnError(
        AMM_SLIPPAGE_EXCEEDED,
        `The swap pays ${quote.amountOut} base units, below minAmountOut ${options.minAmountOut}.`,
        {
          hint: "The price moved since you quoted; quote again or lower minAmountOut.",
          details: {
            side,
            amountIn,
            amountOut: quote.amountOut,
            minAmountOut: options.minAmountOut,
          },
        },
      );
    }
  }
  return { pool: applySwap(accrued, side, amountIn, quote.amountOut), quote };
}

/**
 * The largest input whose price impact stays within `slippageBps` (default params.slippageBps)
 * (docs/protocol.md §AMM):
 * floor(s·reserveIn·10⁴ / ((10⁴ − s)(10⁴ − fee))). With the defaults (70 bps guard, 30 bps fee)
 * that is 0.70706% of the input-side reserve.
 */
export function maxAmountInForSlippage(
  pool: AmmPool,
  side: SwapSide,
  slippageBps?: bigint,
  params: AmmParams = DEFAULT_AMM_PARAMS,
): bigint {
  checkPool(pool);
  oneOf("side", side, SWAP_SIDES, AMM_INVALID_INPUT);
  validateAmmParams(params);
  const guardBps = slippageBps ?? params.slippageBps;
  if (typeof guardBps !== "bigint" || guardBps < 0n || guardBps > params.maxSlippageBps) {
    invalid("slippageBps", guardBps, `a bigint in [0, ${params.maxSlippageBps}]`);
  }
  requireLiquidity(pool);
  const { reserveIn } = reservesFor(pool, side);
  const largest =
    (guardBps * reserveIn * BPS_DENOMINATOR) /
    ((BPS_DENOMINATOR - guardBps) * (BPS_DENOMINATOR - params.feeBps));
  return minAmount(largest, MAX_AMOUNT - reserveIn);
}

/**
 * Deposits liquidity (docs/protocol.md §AMM). First deposit: shares = isqrt(dpn·stable), of which
 * AMM_MINIMUM_LIQUIDITY are locked; it sets the price. Later deposits mint
 * min(dpn·T/x, stable·T/y) and take only the proportional amounts, rounded up, so the pool never
 * gives value away; the rest is returned in `refundDpn` / `refundStable`.
 */
export function addLiquidity(
  pool: AmmPool,
  dpnAmount: bigint,
  stableAmount: bigint,
  nowMs: number,
): {
  pool: AmmPool;
  shares: bigint;
  dpnUsed: bigint;
  stableUsed: bigint;
  refundDpn: bigint;
  refundStable: bigint;
} {
  amountArg("dpnAmount", dpnAmount);
  amountArg("stableAmount", stableAmount);
  const accrued = accumulate(pool, nowMs);
  let shares: bigint;
  let dpnUsed: bigint;
  let stableUsed: bigint;
  let totalShares: bigint;
  if (accrued.totalShares === 0n) {
    const minted = isqrt(dpnAmount * stableAmount);
    if (minted <= AMM_MINIMUM_LIQUIDITY) {
      throw new DpnError(
        AMM_INSUFFICIENT_LIQUIDITY,
        `The first deposit mints ${minted} shares; more than ${AMM_MINIMUM_LIQUIDITY} are needed.`,
        {
          hint: "Deposit more of both tokens: sqrt(dpnAmount × stableAmount) must exceed 1000 base units.",
          details: { dpnAmount, stableAmount },
        },
      );
    }
    shares = minted - AMM_MINIMUM_LIQUIDITY;
    totalShares = minted;
    dpnUsed = dpnAmount;
    stableUsed = stableAmount;
  } else {
    const byDpn = (dpnAmount * accrued.totalShares) / accrued.reserveDpn;
    const byStable = (stableAmount * accrued.totalShares) / accrued.reserveStable;
    shares = minAmount(byDpn, byStable);
    if (shares === 0n) {
      throw new DpnError(AMM_INSUFFICIENT_LIQUIDITY, "The deposit is too small to mint a share.", {
        hint: "Deposit both tokens in the pool's current ratio (see spotPrice), in larger amounts.",
        details: { dpnAmount, stableAmount, totalShares: accrued.totalShares },
      });
    }
    totalShares = accrued.totalShares + shares;
    // ceil(shares × reserve / T) <= the amount offered, because shares <= amount × T / reserve.
    dpnUsed = ceilDiv(shares * accrued.reserveDpn, accrued.totalShares);
    stableUsed = ceilDiv(shares * accrued.reserveStable, accrued.totalShares);
  }
  const next: AmmPool = {
    ...accrued,
    reserveDpn: checkAmount("reserveDpn", accrued.reserveDpn + dpnUsed),
    reserveStable: checkAmount("reserveStable", accrued.reserveStable + stableUsed),
    totalShares: checkAmount("totalShares", totalShares),
  };
  return {
    pool: next,
    shares,
    dpnUsed,
    stableUsed,
    refundDpn: dpnAmount - dpnUsed,
    refundStable: stableAmount - stableUsed,
  };
}

/**
 * Burns `shares` for the proportional reserves, rounded down (docs/protocol.md §AMM). The locked
 * AMM_MINIMUM_LIQUIDITY can never be removed, so both reserves stay above zero.
 */
export function removeLiquidity(
  pool: AmmPool,
  shares: bigint,
  nowMs: number,
): { pool: AmmPool; dpnOut: bigint; stableOut: bigint } {
  amountArg("shares", shares);
  const accrued = accumulate(pool, nowMs);
  requireLiquidity(accrued);
  const circulating = accrued.totalShares - AMM_MINIMUM_LIQUIDITY;
  if (shares === 0n) invalid("shares", shares, "> 0");
  if (shares > circulating) {
    throw new DpnError(
      AMM_INSUFFICIENT_SHARES,
      `Cannot burn ${shares} shares: only ${circulating} are in circulation.`,
      {
        hint: "Burn at most the shares you hold; the first 1000 shares are locked forever.",
        details: { shares, circulating },
      },
    );
  }
  const dpnOut = (shares * accrued.reserveDpn) / accrued.totalShares;
  const stableOut = (shares * accrued.reserveStable) / accrued.totalShares;
  if (dpnOut === 0n && stableOut === 0n) {
    throw new DpnError(AMM_INSUFFICIENT_LIQUIDITY, `Burning ${shares} shares returns nothing.`, {
      hint: "Burn more shares at once.",
      details: { shares, totalShares: accrued.totalShares },
    });
  }
  return {
    pool: {
      ...accrued,
      reserveDpn: accrued.reserveDpn - dpnOut,
      reserveStable: accrued.reserveStable - stableOut,
      totalShares: accrued.totalShares - shares,
    },
    dpnOut,
    stableOut,
  };
}

/**
 * The swap that moves the spot price to `targetPrice` (stable per DPN × 10^18), fee included
 * (docs/protocol.md §AMM). Used by the reserve's anti-decoupling trades (§4.3). Solves
 * (R + a)(R + γa) = R²·m for the input a, with R the input-side reserve, γ = 1 − fee and
 * m = target/spot (buying DPN) or spot/target (selling DPN), and floors the root, so the trade
 * never pushes the price past the target. Returns amountIn = 0 when the target is within one
 * base unit of input of the current price.
 */
export function tradeToReachPrice(
  pool: AmmPool,
  targetPrice: bigint,
  params: AmmParams = DEFAULT_AMM_PARAMS,
): { side: SwapSide; amountIn: bigint } {
  checkPool(pool);
  validateAmmParams(params);
  if (typeof targetPrice !== "bigint" || targetPrice <= 0n) {
    invalid("targetPrice", targetPrice, "a bigint > 0 (stable per DPN × 10^18)");
  }
  requireLiquidity(pool);
  const x = pool.reserveDpn;
  const y = pool.reserveStable;
  const D = BPS_DENOMINATOR;
  const G = D - params.feeBps;
  // Raising the price (target > y/x) means buying DPN with stable; compare exactly, unfloored.
  const side: SwapSide = targetPrice * x > y * AMM_PRICE_SCALE ? "buy-dpn" : "sell-dpn";
  let amountIn: bigint;
  if (side === "buy-dpn") {
    // a = [sqrt(y²(D−G)² + 4GD·P·x·y) − y(D+G)] / 2G, P = targetPrice / S.
    const n = y * y * (D - G) * (D - G) * AMM_PRICE_SCALE + 4n * G * D * targetPrice * x * y;
    amountIn = floorDiv(
      isqrt(n * AMM_PRICE_SCALE) - y * (D + G) * AMM_PRICE_SCALE,
      2n * G * AMM_PRICE_SCALE,
    );
  } else {
    // a = [sqrt(x²(D−G)² + 4GD·x·y/P) − x(D+G)] / 2G.
    const n = x * x * (D - G) * (D - G) * targetPrice + 4n * G * D * x * y * AMM_PRICE_SCALE;
    amountIn = floorDiv(isqrt(n * targetPrice) - x * (D + G) * targetPrice, 2n * G * targetPrice);
  }
  if (amountIn < 0n) amountIn = 0n;
  const reserveIn = side === "buy-dpn" ? y : x;
  if (amountIn > MAX_AMOUNT - reserveIn) {
    throw new DpnError(AMM_INVALID_INPUT, "The target price is out of reach of any amount.", {
      hint: "Pass a target price closer to the current spot price.",
      details: { targetPrice, spotPrice: priceOf(x, y) },
    });
  }
  return { side, amountIn };
}

/** Math.min does not take bigints. */
function minAmount(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}

/** Floor division for a possibly negative numerator (bigint `/` truncates toward zero). */
function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}
