import type { Ledger } from "@dpn/ledger";
import { type AmmParams, DpnError, formatDpn, type Observation, twap } from "@dpn/protocol";
import type { PoolView } from "@dpn/wire";

/** The TWAP window of the pool view and of the oracle's AMM feed: one hour. */
export const TWAP_WINDOW_MS = 3_600_000;

/**
 * The node's view of its AMM pool (docs/protocol.md §AMM). It keeps the pool's accumulator
 * observations of the last hour (Uniswap V2 oracle style) and reports the mean price since the
 * oldest: one large swap moves it only in proportion to how long the price stays moved.
 */
export class Market {
  private readonly observations: Observation[] = [];

  constructor(
    private readonly ledger: Ledger,
    private readonly params: { readonly anchorPriceUsd: number; readonly amm: AmmParams },
    readonly windowMs: number = TWAP_WINDOW_MS,
  ) {}

  /**
   * Records an observation and returns the time-weighted price over the window, or the spot
   * price until a window exists; null while the pool is empty.
   */
  async twapPrice(nowMs: number): Promise<bigint | null> {
    const pool = await this.ledger.pool();
    if (pool.spotPrice === null) return null;
    const latest = await this.ledger.observePool(nowMs);
    while (
      this.observations.length > 1 &&
      (this.observations[1]?.timestampMs ?? 0) <= latest.timestampMs - this.windowMs
    ) {
      this.observations.shift();
    }
    const oldest = this.observations[0];
    const last = this.observations[this.observations.length - 1];
    if (last === undefined || latest.timestampMs > last.timestampMs) this.observations.push(latest);
    return oldest !== undefined && latest.timestampMs > oldest.timestampMs
      ? twap(oldest, latest)
      : pool.spotPrice;
  }

  /**
   * Refuses a swap guard wider than the governed amm.maxSlippageBps before it reaches the ledger,
   * with a code and the value in force (the wire schema admits up to SLIPPAGE_BPS_LIMIT).
   */
  checkSlippage(maxSlippageBps: number | undefined): void {
    const max = Number(this.params.amm.maxSlippageBps);
    if (maxSlippageBps !== undefined && maxSlippageBps > max) {
      throw new DpnError(
        "MARKET_SLIPPAGE_TOO_WIDE",
        `A price-impact guard of ${maxSlippageBps} bps is wider than this node's maximum of ${max} bps.`,
        {
          hint: `Ask for at most ${max} bps (amm.maxSlippageBps, shown by GET /v1/market/pool).`,
          details: { maxSlippageBps, max },
        },
      );
    }
  }

  async poolView(nowMs: number): Promise<PoolView> {
    const pool = await this.ledger.pool();
    const twapPrice = await this.twapPrice(nowMs);
    return {
      reserveDpn: formatDpn(pool.reserveDpn),
      reserveStable: formatDpn(pool.reserveStable),
      totalShares: pool.totalShares.toString(),
      spotPrice: pool.spotPrice === null ? null : formatDpn(pool.spotPrice),
      twapPrice: twapPrice === null ? null : formatDpn(twapPrice),
      twapWindowMs: this.windowMs,
      feeBps: Number(this.params.amm.feeBps),
      slippageBps: Number(this.params.amm.slippageBps),
      maxSlippageBps: Number(this.params.amm.maxSlippageBps),
      anchorPriceUsd: this.params.anchorPriceUsd,
    };
  }
}
