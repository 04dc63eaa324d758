/**
 * The ledger's assets. DPN is the ledger's own token; the AMM (§4.5) also needs the stable unit
 * it trades against and the pool's liquidity shares. Every account holds one asset, named by a
 * prefix of its id: `owner:a` holds DPN, `usd:owner:a` the same owner's stable units,
 * `lp:owner:a` their pool shares. Postings may move several assets at once (a swap moves DPN one
 * way and stable the other), but each asset's lines sum to zero on their own: the audit checks
 * that per asset, so no operation can turn one asset into another.
 *
 * The stable unit is an 18-decimal unit worth one US dollar, brought in by `depositStable`
 * against an outside reference (a bridged stablecoin deposit in production) and taken out by
 * `withdrawStable`. It exists so that the pool, the reserve and the TWAP oracle have a price in
 * the same unit as the exchange rate's anchor (USD).
 */
export type Asset = "DPN" | "USD" | "LP";

export const ASSETS: readonly Asset[] = ["DPN", "USD", "LP"];

const PREFIX: Readonly<Record<Exclude<Asset, "DPN">, string>> = { USD: "usd:", LP: "lp:" };

export function assetOf(id: string): Asset {
  if (id.startsWith(PREFIX.USD)) return "USD";
  if (id.startsWith(PREFIX.LP)) return "LP";
  return "DPN";
}

/** The DPN account id of the holder: `usd:owner:a` → `owner:a`. */
export function holderOf(id: string): string {
  const asset = assetOf(id);
  return asset === "DPN" ? id : id.slice(PREFIX[asset].length);
}

/** The holder's account of `asset`: accountIn("USD", "owner:a") = "usd:owner:a". */
export function accountIn(asset: Asset, holder: string): string {
  return asset === "DPN" ? holder : `${PREFIX[asset]}${holder}`;
}
