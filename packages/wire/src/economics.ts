/** The economics views of the HTTP API (docs/protocol.md §Exchange rate). */

/** How far one price can be trusted: published or held (stale), how old, simulated inputs. */
export interface PriceQualityView {
  readonly status: "median" | "fallback" | "held";
  readonly stale: boolean;
  readonly ageMs: number;
  readonly simulated: boolean;
}

/**
 * One epoch of the exchange rate as the node reports it (GET /v1/economics/rate and /rates):
 * the prices and measured inputs, the rate (docs/protocol.md §Exchange rate) and the burning
 * controller's decision. Amounts in base units and basis points are decimal strings.
 */
export interface RateEpochView {
  readonly atMs: number;
  readonly prices: {
    readonly dpnPriceUsd: number;
    readonly computePriceUsdPerCu: number;
    readonly source: string;
    /** True when any feed behind either price is simulated. */
    readonly simulated?: boolean;
    readonly dpn?: PriceQualityView;
    readonly compute?: PriceQualityView;
  };
  readonly inputs: {
    readonly circulation: string;
    readonly demandCu: number;
    readonly rigShare: number;
    readonly longTailShare: number;
    readonly supplyCu: number;
    readonly queuedCu: number;
  };
  readonly rate: {
    readonly anchorCuPerDpn: number;
    readonly supplyDemandImbalance: number;
    readonly supplyDemandFactor: number;
    readonly discountIndex: number;
    readonly msf: number;
    readonly ehf: number;
    readonly cuPerDpn: number;
  };
  readonly burning: {
    readonly level: string;
    readonly utilisation: number;
    readonly burnBps: string;
    readonly coldStorageCu: number;
    readonly releaseCu: number;
    readonly buyback: string;
  };
  /** Cumulative minted and burned DPN and the reserve's DPN at the epoch, base units. */
  readonly ledger?: { readonly minted: string; readonly burned: string; readonly reserve: string };
}
