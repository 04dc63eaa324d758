import { type Ledger, MARKET_ACCOUNTS, SYSTEM_ACCOUNTS } from "@dpn/ledger";
import {
  AMM_PRICE_SCALE,
  type AmmParams,
  type AntiDecouplingParams,
  antiDecoupling,
  dpnFromNumber,
  dpnToNumber,
  formatDpn,
  isDpnError,
  type Observation,
  tradeToReachPrice,
  twap,
} from "@dpn/protocol";
import type { ReserveOperationView } from "@dpn/wire";
import type { NodeStore } from "../store/open.ts";
import * as records from "../store/records.ts";

/**
 * The reserve's anti-decoupling desk (docs/protocol.md §Anti-decoupling, §4.3). Once per epoch
 * it compares the AMM's time-weighted price over the epoch with the anchor Base_Price; beyond
 * ±5% it trades `deviation × reserve DPN × 0.8` through the pool from `system:reserve-pool`,
 * bounded by what brings the spot price back to the anchor (never past it) and, when buying, by
 * the stable units the reserve holds. Every decision, traded or not, is recorded.
 *
 * The price defended is the pool's, not the oracle's median: the pool is the market the reserve
 * can act on, and the TWAP (not the spot) keeps one large trade from triggering it on its own.
 */
export class ReserveDesk {
  private previous: Observation | undefined;

  constructor(
    private readonly ledger: Ledger,
    private readonly store: NodeStore,
    private readonly params: {
      readonly anchorPriceUsd: number;
      readonly antiDecoupling: AntiDecouplingParams;
      readonly amm: AmmParams;
    },
  ) {}

  private loaded = false;

  /** The epoch's TWAP starts where the last decision observed the pool, across restarts too. */
  private async load(): Promise<void> {
    if (this.loaded) return;
    const [last] = await records.reserveOperations(this.store.db, 1);
    if (last?.observation !== undefined) {
      this.previous = {
        priceCumulative: BigInt(last.observation.priceCumulative),
        timestampMs: last.observation.timestampMs,
      };
    }
    this.loaded = true;
  }

  async defend(nowMs: number): Promise<ReserveOperationView> {
    await this.load();
    const operation = await this.decide(nowMs);
    const observation =
      this.previous === undefined
        ? undefined
        : {
            priceCumulative: this.previous.priceCumulative.toString(),
            timestampMs: this.previous.timestampMs,
          };
    await records.recordReserveOperation(
      this.store.db,
      nowMs,
      operation.action,
      JSON.stringify({ ...operation, ...(observation === undefined ? {} : { observation }) }),
    );
    return operation;
  }

  private async decide(nowMs: number): Promise<ReserveOperationView> {
    const anchorPrice = this.params.anchorPriceUsd;
    const base = {
      atMs: nowMs,
      anchorPrice,
      formulaDpn: "0",
      amountIn: "0",
      amountOut: "0",
      priceAfter: null,
    };
    const pool = await this.ledger.pool();
    if (pool.spotPrice === null) {
      return {
        ...base,
        marketPrice: null,
        deviation: null,
        action: "none",
        priceBefore: null,
        note: "the AMM pool has no liquidity",
      };
    }
    const observation = await this.ledger.observePool(nowMs);
    const windowed =
      this.previous !== undefined && observation.timestampMs > this.previous.timestampMs;
    const price = windowed && this.previous ? twap(this.previous, observation) : pool.spotPrice;
    this.previous = observation;
    const marketPrice = dpnToNumber(price);
    const reserveDpn = await this.ledger.balance(SYSTEM_ACCOUNTS.reservePool);
    const reserveStable = await this.ledger.balance(MARKET_ACCOUNTS.reserveStable);
    const decision = antiDecoupling(
      marketPrice,
      anchorPrice,
      reserveDpn,
      this.params.antiDecoupling,
    );
    const seen = {
      ...base,
      marketPrice,
      deviation: decision.deviation,
      action: decision.action,
      formulaDpn: formatDpn(decision.amount),
      priceBefore: formatDpn(pool.spotPrice),
    };
    const priceKind = windowed ? "TWAP over the epoch" : "spot price (first observation)";
    if (decision.action === "none") {
      return { ...seen, note: `${priceKind} within the trigger band` };
    }
    const reach = tradeToReachPrice(pool, dpnFromNumber(anchorPrice), this.params.amm);
    if (reach.side !== decision.action || reach.amountIn === 0n) {
      return { ...seen, note: `the spot price is already back at the anchor (${priceKind})` };
    }
    let amountIn: bigint;
    let note: string;
    if (decision.action === "sell-dpn") {
      amountIn = min(decision.amount, reach.amountIn);
      note = amountIn < decision.amount ? "bounded by the anchor" : "formula amount";
    } else {
      // The formula is in DPN; buying pays stable units, at most what the reserve holds.
      const formulaStable = (decision.amount * pool.spotPrice) / AMM_PRICE_SCALE;
      amountIn = min(min(formulaStable, reach.amountIn), reserveStable);
      note =
        amountIn === reserveStable
          ? "bounded by the reserve's stable holdings"
          : amountIn < formulaStable
            ? "bounded by the anchor"
            : "formula amount";
    }
    if (amountIn === 0n) {
      return { ...seen, note: `nothing to trade: ${note}` };
    }
    try {
      const trade = await this.ledger.swap({
        idempotencyKey: `reserve:${nowMs}`,
        trader: SYSTEM_ACCOUNTS.reservePool,
        side: decision.action,
        amountIn,
        maxSlippageBps: this.params.amm.maxSlippageBps,
        nowMs,
      });
      const after = await this.ledger.pool();
      return {
        ...seen,
        amountIn: formatDpn(amountIn),
        amountOut: formatDpn(decision.action === "sell-dpn" ? trade.stable : trade.dpn),
        priceAfter: after.spotPrice === null ? null : formatDpn(after.spotPrice),
        note: `${note}; ${priceKind}`,
      };
    } catch (error) {
      if (!isDpnError(error)) throw error;
      return { ...seen, note: `trade refused: ${error.code}: ${error.message}` };
    }
  }
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
