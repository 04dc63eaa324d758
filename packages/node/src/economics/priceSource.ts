/**
 * Where the node's prices come from: the DPN market price (USD/DPN) and the market price of
 * computing power (USD/CU), each from its five-feed oracle (oracle.ts). Tests may replace the
 * source entirely (`startNode({ priceSource })`); its `source` then names it.
 */
export interface Prices {
  readonly dpnPriceUsd: number;
  readonly computePriceUsdPerCu: number;
  /** Where the prices came from, shown with every quote. */
  readonly source: string;
  /** True when any feed behind either price is simulated (absent: a source that does not say). */
  readonly simulated?: boolean;
  readonly dpn?: PriceQuality;
  readonly compute?: PriceQuality;
}

/** How far one price can be trusted: published this round or held, how old, simulated inputs. */
export interface PriceQuality {
  readonly status: "median" | "fallback" | "held";
  /** True when the price was held from an earlier round (too few fresh feeds now). */
  readonly stale: boolean;
  readonly ageMs: number;
  readonly simulated: boolean;
}

export interface PriceSource {
  read(nowMs: number): Promise<Prices>;
}
