import type { Ledger } from "@dpn/ledger";
import { SYSTEM_ACCOUNTS } from "@dpn/ledger";
import {
  type BurningDecision,
  burningDecision,
  type ExchangeRate,
  exchangeRate,
  genesisAllocation,
  type ProtocolParams,
} from "@dpn/protocol";
import { stringify } from "../json.ts";
import * as jobs from "../store/jobs.ts";
import type { NodeStore } from "../store/open.ts";
import * as records from "../store/records.ts";
import type { PriceSource, Prices } from "./priceSource.ts";

/**
 * The live exchange rate and burn rate, recomputed every epoch from what the node measures
 * (docs/protocol.md §Exchange rate, §Burning controller): circulation from the ledger, demand
 * from submitted jobs, the rig share of capacity and the long-tail share of connected devices, and prices from the price source. Every epoch's inputs and outputs are recorded.
 */
export interface EconomicsSnapshot {
  readonly atMs: number;
  readonly prices: Prices;
  readonly inputs: {
    readonly circulation: string;
    readonly demandCu: number;
    readonly rigShare: number;
    readonly longTailShare: number;
    readonly supplyCu: number;
    readonly queuedCu: number;
    /** Stable base units the reserve earned since the last epoch (§4.2's interest). */
    readonly reserveInterest: string;
  };
  readonly rate: ExchangeRate;
  readonly burning: BurningDecision;
  /** Cumulative totals at the epoch, base units: what the dashboard charts over time. */
  readonly ledger: { readonly minted: string; readonly burned: string; readonly reserve: string };
}

export interface NetworkMetrics {
  /** Devices online now, with their class facts and measured capability. */
  readonly online: ReadonlyArray<{
    readonly longTail: boolean;
    readonly rig: boolean;
    readonly cuPerSec: number;
  }>;
  /** CU of work waiting or running now. */
  readonly queuedCu: number;
  /** Capacity of the devices the burning controller put on standby, CU/s. */
  readonly standbyCuPerSec: number;
  /** Stable side of the fees the reserve's pool shares earned since the last epoch (buyback.ts). */
  readonly reserveInterest: bigint;
}

/** §3.1's demand horizon: demand is the CU submitted over the trailing 30 days. */
export const DEMAND_HORIZON_MS = 30 * 86_400_000;

/** System accounts whose DPN is not in circulation (pools the protocol holds). */
const NOT_CIRCULATING = [
  SYSTEM_ACCOUNTS.emissionPool,
  SYSTEM_ACCOUNTS.reservePool,
  SYSTEM_ACCOUNTS.antiMonopolyFund,
  SYSTEM_ACCOUNTS.governanceFund,
  SYSTEM_ACCOUNTS.liquidity,
  SYSTEM_ACCOUNTS.contributors,
] as const;

export class RateService {
  private current: EconomicsSnapshot | undefined;

  readonly epochSeconds: number;

  constructor(
    private readonly ledger: Ledger,
    private readonly store: NodeStore,
    private readonly prices: PriceSource,
    private readonly params: ProtocolParams,
    private readonly epochMs: number,
  ) {
    this.epochSeconds = epochMs / 1000;
  }

  /** The snapshot in force; recomputed when an epoch has passed. */
  async snapshot(
    nowMs: number,
    metrics: () => Promise<NetworkMetrics>,
  ): Promise<EconomicsSnapshot> {
    // One computation at a time: callers that arrive while an epoch is being computed share it.
    while (this.computing !== undefined) await this.computing;
    if (this.current === undefined || nowMs - this.current.atMs >= this.epochMs) {
      this.computing = metrics().then((m) => this.compute(nowMs, m));
      try {
        this.current = await this.computing;
      } finally {
        this.computing = undefined;
      }
      await records.recordRate(this.store.db, nowMs, stringify(this.current));
    }
    return this.current;
  }

  private computing: Promise<EconomicsSnapshot> | undefined;

  peek(): EconomicsSnapshot | undefined {
    return this.current;
  }

  private async compute(nowMs: number, metrics: NetworkMetrics): Promise<EconomicsSnapshot> {
    const supply = await this.ledger.supply();
    let held = 0n;
    for (const account of NOT_CIRCULATING) held += await this.ledger.balance(account);
    const circulation = supply.outstanding - held;
    // Minted = what the emission pool has paid out: its genesis share plus every refill, minus
    // what it still holds.
    const minted =
      supply.cap === 0n
        ? 0n
        : genesisAllocation(supply.cap).miningEmission + supply.replenished - supply.emissionPool;
    const reserve = await this.ledger.balance(SYSTEM_ACCOUNTS.reservePool);
    const online = metrics.online;
    const longTailShare =
      online.length === 0 ? 0 : online.filter((d) => d.longTail).length / online.length;
    // §3.1 "the proportion of ASIC computing power": rigs' share of the capacity online.
    const capacity = online.reduce((sum, d) => sum + d.cuPerSec, 0);
    const rigCapacity = online.reduce((sum, d) => sum + (d.rig ? d.cuPerSec : 0), 0);
    const rigShare = capacity > 0 ? rigCapacity / capacity : 0;
    const demandCu = await jobs.demandCu(this.store.db, nowMs - DEMAND_HORIZON_MS);
    const prices = await this.prices.read(nowMs);
    const rate = exchangeRate(
      {
        computePriceUsdPerCu: prices.computePriceUsdPerCu,
        dpnPriceUsd: prices.dpnPriceUsd,
        circulation,
        demandCu,
        rigShare,
        longTailShare,
      },
      this.params.rate,
    );
    // The burning controller's supply is the capacity that can take work: standby excluded.
    const supplyCu = (capacity - metrics.standbyCuPerSec) * (this.epochMs / 1000);
    const burning = burningDecision(
      {
        supplyCu,
        demandCu: metrics.queuedCu,
        standbyCu: metrics.standbyCuPerSec * (this.epochMs / 1000),
        reserveInterest: metrics.reserveInterest,
      },
      this.params.burning,
    );
    return {
      atMs: nowMs,
      prices,
      inputs: {
        circulation: circulation.toString(),
        demandCu,
        rigShare,
        longTailShare,
        supplyCu,
        queuedCu: metrics.queuedCu,
        reserveInterest: metrics.reserveInterest.toString(),
      },
      rate,
      burning,
      ledger: {
        minted: minted.toString(),
        burned: supply.burned.toString(),
        reserve: reserve.toString(),
      },
    };
  }
}
