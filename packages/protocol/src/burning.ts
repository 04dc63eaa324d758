import { BPS_DENOMINATOR } from "./amount.ts";
import { ANTI_MONOPOLY_FUND_BPS } from "./paymentSplit.ts";
import { nonNegative, nonNegativeAmount } from "./validate.ts";

/**
 * The three-level burning controller (docs/protocol.md §Burning controller), §4.2:
 * - excess computing power: "the burning rate is increased by 15%, and 20% of the excess
 *   computing power is transferred to cold storage";
 * - balance: "the burning rate is fine-tuned by ±2%, and the reserve pool interest is used to
 *   repurchase DPN";
 * - shortage: "the burning rate is decreased by 20%, and 30% of the reserve computing power is
 *   released for emergency".
 *
 * The burn rate is the share of each payment that is burned (the rest, minus the 3% fund, goes
 * to the reserve). "Increased by 15%" is read as relative to a governed base rate and applied
 * per level, not compounded epoch after epoch: a compounding reading would drive the rate into
 * its bound within five epochs of excess and then swing it from bound to bound. Each epoch's rate
 * is therefore a bounded function of that epoch's state.
 */
export type BurnLevel = "excess" | "balance" | "shortage";

export interface BurningParams {
  /** The burn rate at exact balance, in bps of each payment. */
  readonly baseBurnBps: number;
  /** Utilisation within 1 ± band counts as balance (10%). */
  readonly balanceBand: number;
  /** §4.2's +15%. */
  readonly excessIncrease: number;
  /** §4.2's −20%. */
  readonly shortageDecrease: number;
  /** §4.2's ±2%, reached at the edges of the band. */
  readonly balanceFineTune: number;
  /** §4.2's 20% of excess capacity put on standby. */
  readonly coldStorageShare: number;
  /** §4.2's 30% of standby capacity brought back. */
  readonly emergencyReleaseShare: number;
}

export const DEFAULT_BURNING_PARAMS: BurningParams = {
  baseBurnBps: 8_000,
  balanceBand: 0.1,
  excessIncrease: 0.15,
  shortageDecrease: 0.2,
  balanceFineTune: 0.02,
  coldStorageShare: 0.2,
  emergencyReleaseShare: 0.3,
};

export interface BurningInputs {
  /** Capacity offered by online devices this epoch, CU. */
  readonly supplyCu: number;
  /** Work requested this epoch, CU. */
  readonly demandCu: number;
  /** Capacity currently on standby ("cold storage"), CU. */
  readonly standbyCu: number;
  /** What the reserve earned this epoch (AMM fees on its liquidity), base units. */
  readonly reserveInterest: bigint;
}

export interface BurningDecision {
  readonly level: BurnLevel;
  /** demand / supply; Infinity when demand meets no supply. */
  readonly utilisation: number;
  readonly burnBps: bigint;
  /** Capacity to put on standby this epoch (excess only), CU. */
  readonly coldStorageCu: number;
  /** Standby capacity to bring back this epoch (shortage only), CU. */
  readonly releaseCu: number;
  /** DPN the reserve buys back from the market with its interest (balance only). */
  readonly buyback: bigint;
}

/** The highest burn rate that leaves room for the anti-monopoly fund. */
export const MAX_BURN_BPS = Number(BPS_DENOMINATOR - ANTI_MONOPOLY_FUND_BPS);

/** One epoch's decision (docs/protocol.md §Burning controller). */
export function burningDecision(
  inputs: BurningInputs,
  params: BurningParams = DEFAULT_BURNING_PARAMS,
): BurningDecision {
  const supply = nonNegative("supplyCu", inputs.supplyCu);
  const demand = nonNegative("demandCu", inputs.demandCu);
  const standby = nonNegative("standbyCu", inputs.standbyCu);
  nonNegativeAmount("reserveInterest", inputs.reserveInterest);
  // No supply and no demand is an idle network: treated as balance.
  const utilisation = supply > 0 ? demand / supply : demand > 0 ? Infinity : 1;
  const band = params.balanceBand;
  const level: BurnLevel =
    utilisation < 1 - band ? "excess" : utilisation > 1 + band ? "shortage" : "balance";

  let multiplier: number;
  if (level === "excess") multiplier = 1 + params.excessIncrease;
  else if (level === "shortage") multiplier = 1 - params.shortageDecrease;
  // Linear inside the band: +2% at its excess edge, −2% at its shortage edge, 1 at balance.
  else multiplier = band > 0 ? 1 + params.balanceFineTune * ((1 - utilisation) / band) : 1;

  const burnBps = Math.min(MAX_BURN_BPS, Math.max(0, Math.floor(params.baseBurnBps * multiplier)));
  return {
    level,
    utilisation,
    burnBps: BigInt(burnBps),
    coldStorageCu: level === "excess" ? params.coldStorageShare * (supply - demand) : 0,
    releaseCu: level === "shortage" ? params.emergencyReleaseShare * standby : 0,
    buyback: level === "balance" ? inputs.reserveInterest : 0n,
  };
}
