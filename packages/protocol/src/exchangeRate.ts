import { dpnToNumber } from "./amount.ts";
import { DpnError } from "./errors.ts";
import { exceeds, nonNegative, nonNegativeAmount, positive, unitInterval } from "./validate.ts";

/**
 * The five-dimensional exchange rate (docs/protocol.md §Exchange rate), §3.1:
 *
 *   Rate_t = Base_Price / P_cu,t × (1 + 0.5·(C − D)/D) × (1 + DI_t) × MSF_t × EHF_t
 *
 * Our reading, chosen so that the units work out and every term pushes toward the anchor:
 * - Rate_t is in CU per DPN: how much computation one DPN buys (redemption) or how much a device
 *   must deposit to be minted one DPN.
 * - Base_Price is the anchor price of DPN in USD/DPN; P_cu,t the market price of computing power
 *   in USD/CU. Their ratio is CU/DPN: at the anchor, one DPN buys its USD worth of computation.
 * - C is the DPN in circulation, D the DPN value (at the anchor) of the compute demand over the
 *   demand horizon, so (C − D)/D is dimensionless. It is clamped to [−1, 1]: the factor stays in
 *   [0.5, 1.5] and is defined when demand is zero.
 * - DI_t (undefined in the whitepaper) is the discount index (Base_Price − P_DPN)/Base_Price,
 *   clamped to ±0.5: when DPN trades below its anchor, each DPN buys more compute and fewer DPN
 *   are minted per CU, which raises demand for DPN and lowers its issuance.
 * - MSF and EHF act on deposits by class (§3.1 says what they are for: to cut miners' profits and
 *   to encourage long-tail devices), so they live in `depositFactor`, not in the published rate.
 */
export interface RateInputs {
  /** P_cu: market price of computing power, USD per CU (compute-price oracle). */
  readonly computePriceUsdPerCu: number;
  /** P_DPN: market price of DPN, USD per DPN (DPN-price oracle). */
  readonly dpnPriceUsd: number;
  /** C: DPN held outside system accounts, in base units. */
  readonly circulation: bigint;
  /** Compute demanded over the demand horizon, CU. */
  readonly demandCu: number;
  /** Rigs' share of the computing power (benchmarked CU/s) of the devices online, [0, 1]. */
  readonly rigShare: number;
  /** Share of active devices that are long-tail (phones, IoT, browsers, vehicles), [0, 1]. */
  readonly longTailShare: number;
}

export interface RateParams {
  /** Base_Price: the anchor price of one DPN. */
  readonly basePriceUsdPerDpn: number;
  /** §3.1's 0.5: how strongly supply and demand move the rate. */
  readonly supplyDemandGain: number;
  /** |(C − D)/D| is clamped to this, keeping the factor positive and bounded. */
  readonly supplyDemandClamp: number;
  /** |DI| is clamped to this. */
  readonly discountIndexClamp: number;
  /** §3.1 MSF: rig share above which rigs are penalised (5%). */
  readonly msfRigShareThreshold: number;
  /** §3.1 MSF: the premium penalty (20%). */
  readonly msfPenalty: number;
  /** §3.1 EHF: long-tail share above which long-tail devices get the bonus (60%). */
  readonly ehfLongTailThreshold: number;
  /** §3.1 EHF: the bonus (10%). */
  readonly ehfBonus: number;
}

export const DEFAULT_RATE_PARAMS: RateParams = {
  basePriceUsdPerDpn: 0.15,
  supplyDemandGain: 0.5,
  supplyDemandClamp: 1,
  discountIndexClamp: 0.5,
  msfRigShareThreshold: 0.05,
  msfPenalty: 0.2,
  ehfLongTailThreshold: 0.6,
  ehfBonus: 0.1,
};

export interface ExchangeRate {
  /** Base_Price / P_cu: the rate when every other factor is neutral. */
  readonly anchorCuPerDpn: number;
  /** (C − D)/D after clamping. */
  readonly supplyDemandImbalance: number;
  readonly supplyDemandFactor: number;
  readonly discountIndex: number;
  /** MSF: 1 + penalty when rigs hold more than the threshold share of work, else 1. */
  readonly msf: number;
  /** EHF: 1 + bonus when long-tail devices exceed the threshold share, else 1. */
  readonly ehf: number;
  /** Rate_t in CU per DPN, for redemption and as the base of every deposit. */
  readonly cuPerDpn: number;
}

function clamp(value: number, bound: number): number {
  return Math.min(bound, Math.max(-bound, value));
}

/** Computes Rate_t (docs/protocol.md §Exchange rate). Positive and finite for every valid input. */
export function exchangeRate(
  inputs: RateInputs,
  params: RateParams = DEFAULT_RATE_PARAMS,
): ExchangeRate {
  const computePrice = positive("computePriceUsdPerCu", inputs.computePriceUsdPerCu);
  const dpnPrice = nonNegative("dpnPriceUsd", inputs.dpnPriceUsd);
  const circulation = dpnToNumber(nonNegativeAmount("circulation", inputs.circulation));
  const demandCu = nonNegative("demandCu", inputs.demandCu);
  const rigShare = unitInterval("rigShare", inputs.rigShare);
  const longTailShare = unitInterval("longTailShare", inputs.longTailShare);
  const base = positive("basePriceUsdPerDpn", params.basePriceUsdPerDpn);

  const anchorCuPerDpn = base / computePrice;
  if (!Number.isFinite(anchorCuPerDpn)) {
    throw new DpnError("RATE_OUT_OF_RANGE", "Base_Price / P_cu overflows.", {
      hint: "The compute price is implausibly small; check the compute-price oracle.",
      details: { computePriceUsdPerCu: computePrice },
    });
  }
  const demandDpn = demandCu / anchorCuPerDpn;
  // Zero demand: any circulation is pure excess (the clamp's upper end); an empty economy
  // (nothing circulating, nothing demanded) is balanced.
  const rawImbalance =
    demandDpn > 0 ? (circulation - demandDpn) / demandDpn : circulation > 0 ? Infinity : 0;
  const supplyDemandImbalance = clamp(rawImbalance, params.supplyDemandClamp);
  const supplyDemandFactor = 1 + params.supplyDemandGain * supplyDemandImbalance;
  const discountIndex = clamp((base - dpnPrice) / base, params.discountIndexClamp);

  return {
    anchorCuPerDpn,
    supplyDemandImbalance,
    supplyDemandFactor,
    discountIndex,
    msf: exceeds(rigShare, params.msfRigShareThreshold) ? 1 + params.msfPenalty : 1,
    ehf: exceeds(longTailShare, params.ehfLongTailThreshold) ? 1 + params.ehfBonus : 1,
    cuPerDpn: anchorCuPerDpn * supplyDemandFactor * (1 + discountIndex),
  };
}
