import { dpnFromNumber } from "./amount.ts";
import { DpnError } from "./errors.ts";
import { DEFAULT_RATE_PARAMS } from "./exchangeRate.ts";
import { checkBounds, nonNegative, positive } from "./validate.ts";

/**
 * The electric-vehicle reward (docs/protocol.md §EV reward). §11.1: "Smart electric vehicles
 * offset 30% of charging costs through computing power income (formula: Reward_EV =
 * (P_charge × 0.3) / 0.15 × 0.92)". Read so the units work: P_charge is a charging cost in USD,
 * 0.3 the share of it to offset, 0.15 the DPN price in USD/DPN (the protocol's anchor price),
 * 0.92 the share of the minted DPN that reaches the owner after the network's cut. The result is
 * DPN.
 */

export const EV_REWARD_INVALID_PARAMS = "EV_REWARD_INVALID_PARAMS";

/**
 * Largest charging cost one quote accepts. A month of daily fast charging is a few hundred USD;
 * a fleet depot's month a few tens of thousands. 10^6 USD catches costs passed in the wrong unit
 * (base units, micro-dollars) before they mint.
 */
export const MAX_CHARGING_COST_USD = 1_000_000;

export interface EvRewardParams {
  /** §11.1 "offset 30% of charging costs". */
  readonly offsetShare: number;
  /** §11.1's 0.15: the DPN price in USD/DPN, the exchange rate's anchor (Base_Price, §3.1). */
  readonly anchorPriceUsdPerDpn: number;
  /** §11.1's 0.92: the owner's share after the network's cut of 8%. */
  readonly ownerShare: number;
}

/** The anchor defaults to the exchange rate's Base_Price (0.15), so the two cannot drift apart. */
export const DEFAULT_EV_REWARD_PARAMS: EvRewardParams = {
  offsetShare: 0.3,
  anchorPriceUsdPerDpn: DEFAULT_RATE_PARAMS.basePriceUsdPerDpn,
  ownerShare: 0.92,
};

/**
 * Bounds. The owner keeps at least half (a network cut above 50% would make the reward a tax);
 * the price range spans nine orders of magnitude around the anchor without admitting 0.
 */
export const EV_REWARD_PARAM_BOUNDS = {
  offsetShare: { min: 0, max: 1 },
  anchorPriceUsdPerDpn: { min: 1e-6, max: 1e6 },
  ownerShare: { min: 0.5, max: 1 },
} as const satisfies {
  readonly [K in keyof EvRewardParams]: { readonly min: number; readonly max: number };
};

/** Checks every parameter against EV_REWARD_PARAM_BOUNDS. (docs/protocol.md §EV reward) */
export function checkEvRewardParams(params: EvRewardParams): EvRewardParams {
  return checkBounds(params, EV_REWARD_PARAM_BOUNDS, EV_REWARD_INVALID_PARAMS, "EV reward");
}

export interface EvRewardQuote {
  /** DPN minted for the deposit, before the network's cut, in base units. */
  readonly grossUnits: bigint;
  /** Reward_EV: the owner's DPN, in base units. */
  readonly ownerUnits: bigint;
  /** The network's cut, grossUnits − ownerUnits (exact). */
  readonly networkCutUnits: bigint;
  /** Compute the vehicle must deposit: gross DPN × CU per DPN. */
  readonly requiredCu: number;
  /**
   * Share of the charging cost the owner's DPN is worth at the anchor price: offsetShare × ownerShare
   * = 0.276 by default, not the 30% §11.1 advertises.
   */
  readonly netOffsetShare: number;
}

/**
 * Reward_EV = (P_charge × 0.3) / 0.15 × 0.92 in DPN base units, rounded down once by
 * dpnFromNumber. `chargingCostUsd` is the cost of whatever period the reward covers (a session,
 * a month); the reward covers the same period. (docs/protocol.md §EV reward)
 */
export function evReward(
  chargingCostUsd: number,
  params: EvRewardParams = DEFAULT_EV_REWARD_PARAMS,
): bigint {
  checkEvRewardParams(params);
  checkChargingCost(chargingCostUsd);
  return dpnFromNumber(
    ((chargingCostUsd * params.offsetShare) / params.anchorPriceUsdPerDpn) * params.ownerShare,
  );
}

/**
 * The full EV quote: what is minted, what the owner gets, the network's cut, and the compute the
 * vehicle must deposit to earn it. `cuPerDpn` is the exchange rate in CU per DPN (taken as an
 * argument; the exchange-rate module computes it). The compute pays for the gross amount, since
 * the cut is taken from what is minted: requiredCu = (Reward_EV / ownerShare) × cuPerDpn.
 * (docs/protocol.md §EV reward)
 */
export function evRewardQuote(
  chargingCostUsd: number,
  cuPerDpn: number,
  params: EvRewardParams = DEFAULT_EV_REWARD_PARAMS,
): EvRewardQuote {
  checkEvRewardParams(params);
  checkChargingCost(chargingCostUsd);
  positive("cuPerDpn", cuPerDpn);
  const grossDpn = (chargingCostUsd * params.offsetShare) / params.anchorPriceUsdPerDpn;
  const grossUnits = dpnFromNumber(grossDpn);
  // ownerShare ≤ 1 and IEEE rounding is monotone, so ownerUnits ≤ grossUnits and the cut is ≥ 0.
  const ownerUnits = dpnFromNumber(grossDpn * params.ownerShare);
  const requiredCu = grossDpn * cuPerDpn;
  if (!Number.isFinite(requiredCu)) {
    throw new DpnError("PROTOCOL_INVALID_INPUT", "requiredCu overflowed a float.", {
      hint: "cuPerDpn is CU per DPN; check that it was not passed in base units.",
    });
  }
  return {
    grossUnits,
    ownerUnits,
    networkCutUnits: grossUnits - ownerUnits,
    requiredCu,
    netOffsetShare: params.offsetShare * params.ownerShare,
  };
}

function checkChargingCost(chargingCostUsd: number): void {
  nonNegative("chargingCostUsd", chargingCostUsd);
  if (chargingCostUsd > MAX_CHARGING_COST_USD) {
    throw new DpnError(
      "PROTOCOL_INVALID_INPUT",
      `chargingCostUsd = ${chargingCostUsd} exceeds ${MAX_CHARGING_COST_USD} USD.`,
      { hint: "Pass the charging cost in US dollars for one period, not in cents or base units." },
    );
  }
}
