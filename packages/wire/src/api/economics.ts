import { z } from "zod";
import { BaseUnits } from "./common.ts";
import { SupplyResponse } from "./ledger.ts";

/** The economics views over HTTP (docs/protocol.md §Exchange rate, §Oracles). */

/** How far one price can be trusted (docs/protocol.md §Oracles, "Fallback" and "Labels"). */
export const PriceQualityResponse = z.strictObject({
  /** median / fallback: published by the epoch's round; held: too few fresh feeds, kept. */
  status: z.enum(["median", "fallback", "held"]),
  /** True when the price is held from an earlier round. */
  stale: z.boolean(),
  /** How old the price is, ms (0 when published by the epoch's round). */
  ageMs: z.number(),
  /** True when any feed of the oracle is simulated. */
  simulated: z.boolean(),
});

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
    /** True when any feed behind either price is simulated (absent in old epochs). */
    simulated: z.optional(z.boolean()),
    dpn: z.optional(PriceQualityResponse),
    compute: z.optional(PriceQualityResponse),
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
  /** True when the value in force is held from an earlier round (absent in old rounds). */
  stale: z.optional(z.boolean()),
  /** Age of the value in force, ms. */
  ageMs: z.optional(z.number()),
});

/** GET /v1/economics/oracle: one oracle's rounds (?oracle=dpn-usd|compute-usd), newest first. */
export const OracleResponse = z.strictObject({ rounds: z.array(OracleRoundResponse) });
export type OracleResponse = z.infer<typeof OracleResponse>;

export const OracleName = z.enum(["dpn-usd", "compute-usd"]);

/** One oracle: its price in force, its feeds and their kinds. */
export const OracleViewResponse = z.strictObject({
  name: OracleName,
  unit: z.enum(["USD/DPN", "USD/CU"]),
  /** True when any of its feeds is simulated. */
  simulated: z.boolean(),
  /** null before any round published a price. */
  price: z
    .strictObject({
      value: z.number(),
      status: z.enum(["median", "fallback", "held"]),
      publishedAtMs: z.number(),
      ageMs: z.number(),
      stale: z.boolean(),
    })
    .nullable(),
  feeds: z.array(
    z.strictObject({
      id: z.string(),
      kind: z.enum(["http-json", "reference", "simulated", "amm-twap", "clearing"]),
      simulated: z.boolean(),
    }),
  ),
});

/** GET /v1/economics/prices: both oracles as of the epoch in force. */
export const PricesResponse = z.strictObject({
  /** True when any feed of either oracle is simulated. */
  simulated: z.boolean(),
  oracles: z.array(OracleViewResponse),
});
export type PricesResponse = z.infer<typeof PricesResponse>;

/** GET /v1/economics/supply: the ledger's supply and the circulation of the last epoch. */
export const EconomicsSupplyResponse = SupplyResponse.extend({ circulation: BaseUnits });
export type EconomicsSupplyResponse = z.infer<typeof EconomicsSupplyResponse>;
