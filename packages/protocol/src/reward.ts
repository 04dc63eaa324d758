import { dpnFromNumber } from "./amount.ts";
import { DEFAULT_DECAY_PARAMS, type DecayParams, decayFactor } from "./decay.ts";
import { type DeviceClass, isLongTail } from "./devices.ts";
import type { ExchangeRate } from "./exchangeRate.ts";
import { nonNegative } from "./validate.ts";

/**
 * What a device is minted and what a requester pays (docs/protocol.md §Rewards and quotes).
 *
 *   price(cu)            = cu / Rate_t                                   (DPN)
 *   reward(cu, class, t) = cu / Rate_t × depositFactor(class) × decay(class, t)
 *
 * depositFactor carries §3.1's class factors: 1/MSF for rigs, EHF for long-tail devices, 1 for
 * the rest. MSF = 1.2 raises the CU a rig must deposit per DPN by 20% (its DPN per CU falls to
 * 1/1.2, −16.7%); EHF = 1.1 pays long-tail devices 10% more per CU.
 */
export function depositFactor(rate: ExchangeRate, deviceClass: DeviceClass): number {
  if (deviceClass === "rig") return 1 / rate.msf;
  if (isLongTail(deviceClass)) return rate.ehf;
  return 1;
}

/** The DPN a requester pays for `cu` of work at Rate_t, rounded down to base units. */
export function priceDpn(cu: number, rate: ExchangeRate): bigint {
  return dpnFromNumber(nonNegative("cu", cu) / rate.cuPerDpn);
}

export interface RewardInput {
  readonly cu: number;
  readonly deviceClass: DeviceClass;
  /** t of §3.2: days of the device's current continuous run. */
  readonly operatingDays: number;
}

export interface Reward {
  readonly amount: bigint;
  readonly baseDpn: number;
  readonly depositFactor: number;
  readonly decay: number;
}

/** The DPN minted to a device for `cu` of verified work (docs/protocol.md §Rewards and quotes). */
export function reward(
  input: RewardInput,
  rate: ExchangeRate,
  decayParams: DecayParams = DEFAULT_DECAY_PARAMS,
): Reward {
  const baseDpn = nonNegative("cu", input.cu) / rate.cuPerDpn;
  const factor = depositFactor(rate, input.deviceClass);
  const decay = decayFactor(input.deviceClass, input.operatingDays, decayParams);
  return { amount: dpnFromNumber(baseDpn * factor * decay), baseDpn, depositFactor: factor, decay };
}
