import {
  DEFAULT_ORACLE_PARAMS,
  exchangeRate,
  type FeedReading,
  type OracleRound,
  oracleRound,
  type Published,
  pruneHistory,
} from "@dpn/protocol";
import type { Benchmark, BenchRow } from "./harness.ts";

/**
 * How far can the bank's own clearing price pull the compute-price oracle it is derived from?
 * Requesters pay the quoted rate, so the clearing price in USD/CU is the oracle's own published
 * P_cu times P_DPN / (Base_Price · S · (1 + DI)) — an echo of the oracle, scaled by the rate's
 * supply–demand and discount factors. This runs the protocol's own `exchangeRate` and
 * `oracleRound` hourly for 30 days with k of the 5 compute feeds being clearing feeds (the rest
 * honest external feeds within ±2% of a true price of 1.2e-5 USD/CU), in excess (S = 1.5), balance (S = 1)
 * and shortage (S = 0.5), and reports where the published price ends and how far it strayed.
 * Deterministic: no clock, no randomness (one run is the measurement).
 */
const TRUE_USD_PER_CU = 1.2e-5;
const BASE_USD = 0.15;
const HOUR = 3_600_000;
const ROUNDS = 30 * 24;
/** The honest feeds disagree a little, as real sources do: ±2% around the true price. */
const HONEST_SPREAD = [0.98, 1.02, 1, 0.99, 1.01];

/** Circulation and demand giving S = 1 + 0.5 · (C − D) / D at the anchor price. */
function economy(s: number, computeUsdPerCu: number) {
  const demandDpn = 100_000;
  const circulationDpn = demandDpn * (1 + (s - 1) / 0.5);
  return {
    circulation: BigInt(Math.round(circulationDpn)) * 10n ** 18n,
    demandCu: demandDpn * (BASE_USD / computeUsdPerCu),
  };
}

function run(clearingFeeds: number, s: number): BenchRow {
  let history: OracleRound[] = [];
  let last: Published | undefined;
  let published = TRUE_USD_PER_CU;
  let lo = published;
  let hi = published;
  let fallbacks = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const nowMs = (round + 1) * HOUR;
    const rate = exchangeRate({
      computePriceUsdPerCu: published,
      dpnPriceUsd: BASE_USD,
      ...economy(s, published),
      rigShare: 0,
      longTailShare: 0,
    });
    // What a requester paid per CU at that rate, in USD at the DPN price.
    const clearingUsdPerCu = BASE_USD / rate.cuPerDpn;
    const readings: FeedReading[] = Array.from({ length: 5 }, (_, i) => ({
      feedId: `f${i}`,
      value: i < clearingFeeds ? clearingUsdPerCu : TRUE_USD_PER_CU * (HONEST_SPREAD[i] ?? 1),
      observedAtMs: nowMs,
    }));
    const outcome = oracleRound(readings, history, last, nowMs, DEFAULT_ORACLE_PARAMS);
    if (outcome.kind !== "published") throw new Error("every feed is fresh: a round must publish");
    history = pruneHistory([...history, outcome.result.round], nowMs);
    last = { value: outcome.price.value, atMs: nowMs };
    if (outcome.result.status === "fallback") fallbacks += 1;
    published = outcome.price.value;
    lo = Math.min(lo, published);
    hi = Math.max(hi, published);
  }
  return {
    "clearing feeds of 5": clearingFeeds,
    S: s,
    "final / true": published / TRUE_USD_PER_CU,
    "min / true": lo / TRUE_USD_PER_CU,
    "max / true": hi / TRUE_USD_PER_CU,
    "fallback rounds": fallbacks,
  };
}

const bench: Benchmark = async () => {
  const rows: BenchRow[] = [];
  for (const clearingFeeds of [1, 2, 3]) {
    for (const s of [1.5, 1, 0.5]) rows.push(run(clearingFeeds, s));
  }
  return {
    name: "oracle",
    question:
      "How far can clearing-price feeds, which echo the oracle through the rate, pull the compute price?",
    rows,
    notes: [
      `${ROUNDS} hourly rounds; the other feeds read the true price ${TRUE_USD_PER_CU} USD/CU within ±2%.`,
      "DPN at its anchor (DI = 0); S set by circulation against demand.",
    ],
  };
};

export default bench;
