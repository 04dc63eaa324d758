import { z } from "zod";
import { BaseUnits } from "./common.ts";
import { SupplyResponse } from "./ledger.ts";

/** The economics views over HTTP (docs/protocol.md §Exchange rate, §Oracles). */

/**
 * One epoch of the exchange rate (the RateEpochView of ../economics.ts): GET /v1/economics/rate,
 * and each of /rates. Base units and basis points are decimal strings.
 */
export const RateEpochResponse = z.strictObject({
  atMs: z.number(),
  prices: z.strictObject({
    dpnPriceUsd: z.number(),
    computePriceUsdPerCu: z.number(),
    source: z.string(),
  }),
  inputs: z.strictObject({
    circulation: BaseUnits,
    demandCu: z.number(),
    rigShare: z.number(),
    longTailShare: z.number(),
    supplyCu: z.number(),
    queuedCu: z.number(),
    /** Stable base units the reserve's pool shares earned since the last epoch (absent in old epochs). */
    reserveInterest: z.optional(BaseUnits),
  }),
  rate: z.strictObject({
    anchorCuPerDpn: z.number(),
    supplyDemandImbalance: z.number(),
    supplyDemandFactor: z.number(),
    discountIndex: z.number(),
    msf: z.number(),
    ehf: z.number(),
    cuPerDpn: z.number(),
  }),
  burning: z.strictObject({
    level: z.enum(["excess", "balance", "shortage"]),
    /** demand / supply; null when demand meets no supply (JSON has no Infinity). */
    utilisation: z.number().nullable(),
    burnBps: BaseUnits,
    coldStorageCu: z.number(),
    releaseCu: z.number(),
    buyback: BaseUnits,
  }),
  /** Cumulative minted and burned DPN and the reserve's DPN at the epoch (absent in old epochs). */
  ledger: z.optional(z.strictObject({ minted: BaseUnits, burned: BaseUnits, reserve: BaseUnits })),
});
export type RateEpochResponse = z.infer<typeof RateEpochResponse>;

/** GET /v1/economics/rates: recorded epochs, newest first. */
export const RatesResponse = z.strictObject({ epochs: z.array(RateEpochResponse) });
export type RatesResponse = z.infer<typeof RatesResponse>;

/** One round of an oracle, published or not, with its live and rejected feeds. */
export const OracleRoundResponse = z.strictObject({
  oracle: z.string(),
  atMs: z.number(),
  /** The value in force after the round (null before any was published). */
  value: z.number().nullable(),
  status: z.enum(["median", "fallback", "failed"]),
  median: z.number().nullable(),
  reference: z.number().nullable(),
  liveFeeds: z.array(z.string()),
  rejected: z.array(z.strictObject({ feedId: z.string(), reason: z.string() })),
  /** The code of the failure, when the round failed. */
  error: z.optional(z.string()),
});

/** GET /v1/economics/oracle: the DPN/USD oracle's rounds, newest first. */
export const OracleResponse = z.strictObject({ rounds: z.array(OracleRoundResponse) });
export type OracleResponse = z.infer<typeof OracleResponse>;

/** GET /v1/economics/supply: the ledger's supply and the circulation of the last epoch. */
export const EconomicsSupplyResponse = SupplyResponse.extend({ circulation: BaseUnits });
export type EconomicsSupplyResponse = z.infer<typeof EconomicsSupplyResponse>;
