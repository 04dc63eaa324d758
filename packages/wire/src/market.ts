import { SLIPPAGE_BPS_LIMIT } from "@dpn/protocol";
import { z } from "zod";
import { AccountId, ClientRef, DpnAmount } from "./schemas.ts";

/** Transfers and the market (§4.5) over HTTP. */

export const Transfer = z.strictObject({
  to: AccountId,
  amount: DpnAmount,
  clientRef: ClientRef,
});

// ---- market (§4.5) ------------------------------------------------------------------------

export const SwapSideName = z.enum(["sell-dpn", "buy-dpn"]);

/** A swap through the AMM pool; amountIn is DPN for sell-dpn, stable units for buy-dpn. */
export const MarketSwap = z.strictObject({
  side: SwapSideName,
  amountIn: DpnAmount,
  /**
   * Price-impact guard; default the pool's 70 bps (§4.5's 0.7%). The node refuses a guard wider
   * than its governed amm.maxSlippageBps (MARKET_SLIPPAGE_TOO_WIDE; GET /v1/market/pool shows it).
   */
  maxSlippageBps: z.optional(z.number().int().min(0).max(SLIPPAGE_BPS_LIMIT)),
  minAmountOut: z.optional(DpnAmount),
  clientRef: ClientRef,
});

/** Adds both tokens to the pool, or burns shares for them. */
export const MarketLiquidity = z.discriminatedUnion("action", [
  z.strictObject({
    action: z.literal("add"),
    dpnAmount: DpnAmount,
    stableAmount: DpnAmount,
    clientRef: ClientRef,
  }),
  z.strictObject({
    action: z.literal("remove"),
    shares: z.string().regex(/^\d{1,78}$/, "a whole number of share base units"),
    clientRef: ClientRef,
  }),
]);

export type MarketSwapBody = z.infer<typeof MarketSwap>;
export type MarketLiquidityBody = z.infer<typeof MarketLiquidity>;

/** GET /v1/market/pool. Prices are stable units (USD) per DPN as decimal strings. */
export interface PoolView {
  readonly reserveDpn: string;
  readonly reserveStable: string;
  readonly totalShares: string;
  readonly spotPrice: string | null;
  /** Time-weighted mean price over the last `twapWindowMs` (null until a window exists). */
  readonly twapPrice: string | null;
  readonly twapWindowMs: number;
  readonly feeBps: number;
  readonly slippageBps: number;
  readonly maxSlippageBps: number;
  readonly anchorPriceUsd: number;
}

/** One decision of the reserve's anti-decoupling desk (§4.3), traded or not. */
export interface ReserveOperationView {
  readonly atMs: number;
  readonly marketPrice: number | null;
  readonly anchorPrice: number;
  readonly deviation: number | null;
  readonly action: "none" | "sell-dpn" | "buy-dpn";
  /** What §4.3's formula asked for, in DPN. */
  readonly formulaDpn: string;
  readonly amountIn: string;
  readonly amountOut: string;
  readonly priceBefore: string | null;
  readonly priceAfter: string | null;
  /** Why no trade, or why the trade was smaller than the formula. */
  readonly note: string;
}

/**
 * One epoch of the reserve's interest (§4.2): the fees its pool shares earned since the last
 * epoch, and, in a balance epoch, the buyback they paid for. Amounts are decimal strings.
 */
export interface ReserveBuybackView {
  readonly atMs: number;
  readonly level: "excess" | "balance" | "shortage";
  /** Pool shares of the reserve that were fees earned since the last epoch. */
  readonly feeShares: string;
  /** What removing them returned (or would have: outside balance epochs they stay pooled). */
  readonly interestDpn: string;
  readonly interestStable: string;
  /** Stable units swapped for DPN, and the DPN that swap bought. */
  readonly stableIn: string;
  readonly dpnBought: string;
  /** The interest's DPN plus the DPN bought: burned. */
  readonly dpnBurned: string;
  /** What happened, or why nothing was bought. */
  readonly note: string;
  /** The pool's liquidity per share the next epoch measures from (kept across restarts). */
  readonly mark?: { readonly rootK: string; readonly totalShares: string };
}
