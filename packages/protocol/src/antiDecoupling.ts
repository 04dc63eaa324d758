import { checkAmount, mulDiv } from "./amount.ts";
import { exceeds, nonNegative, positive } from "./validate.ts";

/**
 * Anti-decoupling (docs/protocol.md §Anti-decoupling), §4.3: "When the price deviates by ±5%,
 * the protocol triggers automatic adjustment, and the adjustment amount = deviation degree × DPN
 * in the reserve pool × 0.8."
 *
 * Deviation d = (P_market − P_anchor) / P_anchor. Above +5% the reserve sells DPN into the market
 * (more DPN on offer pushes the price down); below −5% it buys DPN back with its stable holdings.
 * |d| is capped at 1, so one adjustment never exceeds 80% of the reserve's DPN; the trade is
 * further bounded by the AMM to what moves the price back to the anchor (amm.ts).
 */
export interface AntiDecouplingParams {
  /** §4.3's ±5%; the trigger is strict (> 5%). */
  readonly triggerDeviation: number;
  /** §4.3's 0.8. */
  readonly gain: number;
}

export const DEFAULT_ANTI_DECOUPLING_PARAMS: AntiDecouplingParams = {
  triggerDeviation: 0.05,
  gain: 0.8,
};

export interface AntiDecouplingDecision {
  readonly deviation: number;
  readonly action: "none" | "sell-dpn" | "buy-dpn";
  /** The adjustment amount in DPN base units (0 when no action). */
  readonly amount: bigint;
}

/** The multiplier is quantised to 1e-9 (rounded down) so the amount is exact integer maths. */
const SCALE = 1_000_000_000n;

export function antiDecoupling(
  marketPriceUsd: number,
  anchorPriceUsd: number,
  reserveDpn: bigint,
  params: AntiDecouplingParams = DEFAULT_ANTI_DECOUPLING_PARAMS,
): AntiDecouplingDecision {
  nonNegative("marketPriceUsd", marketPriceUsd);
  positive("anchorPriceUsd", anchorPriceUsd);
  checkAmount("reserveDpn", reserveDpn);
  const deviation = (marketPriceUsd - anchorPriceUsd) / anchorPriceUsd;
  if (!exceeds(Math.abs(deviation), params.triggerDeviation)) {
    return { deviation, action: "none", amount: 0n };
  }
  const multiplier = Math.min(Math.abs(deviation), 1) * Math.min(Math.max(params.gain, 0), 1);
  const amount = mulDiv(reserveDpn, BigInt(Math.floor(multiplier * Number(SCALE))), SCALE);
  return { deviation, action: deviation > 0 ? "sell-dpn" : "buy-dpn", amount };
}
