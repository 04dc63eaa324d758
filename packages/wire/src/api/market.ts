import { z } from "zod";
import { DpnAmount } from "../schemas.ts";
import { BaseUnits, SignedDpnAmount } from "./common.ts";

/** The market (§4.5, §4.3) over HTTP. Prices are stable units (USD) per DPN. */

/** GET /v1/market/pool (the PoolView of ../market.ts). */
export const PoolResponse = z.strictObject({
  reserveDpn: DpnAmount,
  reserveStable: DpnAmount,
  totalShares: BaseUnits,
  spotPrice: DpnAmount.nullable(),
  twapPrice: DpnAmount.nullable(),
  twapWindowMs: z.number(),
  feeBps: z.number(),
  slippageBps: z.number(),
  maxSlippageBps: z.number(),
  anchorPriceUsd: z.number(),
});
export type PoolResponse = z.infer<typeof PoolResponse>;

/** GET /v1/market/quote: what a swap would pay now. */
export const QuoteResponse = z.strictObject({
  side: z.enum(["sell-dpn", "buy-dpn"]),
  amountIn: DpnAmount,
  amountOut: DpnAmount,
  fee: DpnAmount,
  priceImpact: z.number(),
  executionPrice: z.number(),
  spotPriceBefore: DpnAmount,
  spotPriceAfter: DpnAmount,
});
export type QuoteResponse = z.infer<typeof QuoteResponse>;

/** POST /v1/market/swaps and /v1/market/liquidity: the caller's balance changes. */
export const MarketChangeResponse = z.strictObject({
  seq: z.number().int(),
  dpn: SignedDpnAmount,
  stable: SignedDpnAmount,
  /** Pool shares, base units. */
  shares: BaseUnits,
});
export type MarketChangeResponse = z.infer<typeof MarketChangeResponse>;

/** One decision of the reserve's anti-decoupling desk (the ReserveOperationView of ../market.ts). */
export const ReserveOperationResponse = z.strictObject({
  atMs: z.number(),
  marketPrice: z.number().nullable(),
  anchorPrice: z.number(),
  deviation: z.number().nullable(),
  action: z.enum(["none", "sell-dpn", "buy-dpn"]),
  formulaDpn: z.string(),
  amountIn: z.string(),
  amountOut: z.string(),
  priceBefore: z.string().nullable(),
  priceAfter: z.string().nullable(),
  note: z.string(),
  /** The TWAP accumulator the decision started from (kept so a restart continues the window). */
  observation: z.optional(z.strictObject({ priceCumulative: BaseUnits, timestampMs: z.number() })),
});

/** One epoch of the reserve's interest and buyback (the ReserveBuybackView of ../market.ts). */
export const ReserveBuybackResponse = z.strictObject({
  atMs: z.number(),
  level: z.enum(["excess", "balance", "shortage"]),
  feeShares: BaseUnits,
  interestDpn: DpnAmount,
  interestStable: DpnAmount,
  stableIn: DpnAmount,
  dpnBought: DpnAmount,
  dpnBurned: DpnAmount,
  note: z.string(),
  mark: z.optional(z.strictObject({ rootK: BaseUnits, totalShares: BaseUnits })),
});

/** GET /v1/market/reserve: the reserve's holdings, its decisions and its buybacks, newest first. */
export const ReserveResponse = z.strictObject({
  dpn: DpnAmount,
  stable: DpnAmount,
  /** The reserve's pool shares: their fees are its interest. */
  shares: BaseUnits,
  operations: z.array(ReserveOperationResponse),
  buybacks: z.array(ReserveBuybackResponse),
});
export type ReserveResponse = z.infer<typeof ReserveResponse>;
