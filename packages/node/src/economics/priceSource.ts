import { positive } from "@dpn/protocol";

/**
 * Where the node's prices come from: the DPN market price (USD/DPN) and the market price of
 * computing power (USD/CU). The five-feed oracle aggregation implements this same interface in
 * the economics issue; until then a configured source stands in, and says so in its name.
 */
export interface Prices {
  readonly dpnPriceUsd: number;
  readonly computePriceUsdPerCu: number;
  /** Where the prices came from, shown with every quote. */
  readonly source: string;
}

export interface PriceSource {
  read(nowMs: number): Promise<Prices>;
}

/** Fixed prices from configuration (defaults: DPN at its 0.15 USD anchor; 1.2e-5 USD/CU). */
export function configuredPriceSource(
  dpnPriceUsd = 0.15,
  computePriceUsdPerCu = 1.2e-5,
): PriceSource {
  positive("dpnPriceUsd", dpnPriceUsd);
  positive("computePriceUsdPerCu", computePriceUsdPerCu);
  const prices: Prices = { dpnPriceUsd, computePriceUsdPerCu, source: "configured" };
  return { read: async () => prices };
}
