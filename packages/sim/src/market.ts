import {
  type AmmPool,
  type AntiDecouplingParams,
  aggregateOracle,
  antiDecoupling,
  DpnError,
  dpnFromNumber,
  dpnToNumber,
  type FeedReading,
  maxAmountInForSlippage,
  type OracleParams,
  type OracleRound,
  type SwapSide,
  spotPrice,
  swap,
  tradeToReachPrice,
} from "@dpn/protocol";
import type { Economy } from "./economy.ts";
import type { Xoshiro128 } from "./prng.ts";

/**
 * The market model (docs/protocol.md §Oracles, §Anti-decoupling, §AMM). One DPN/stable
 * constant-product pool built with the protocol's AMM is the market: its spot price *is* the DPN
 * market price. Each step:
 *
 * 1. Traders' sentiment s follows a mean-reverting random walk with jumps (an Ornstein–Uhlenbeck
 *    process in log price) plus scheduled extreme shocks. Traders believe DPN is worth
 *    V · e^s, where V = Rate_t · P_cu is what one DPN redeems for in compute at the market price
 *    of compute (the arbitrage value §4.3's "burning upon redemption" creates), and they close a
 *    fraction of the gap each day (`tradeToReachPrice` gives the size of the whole gap).
 * 2. Devices sell part of what they were minted; requesters buy part of what they pay. Orders
 *    that meet in the same step cross before the pool (as matching in an order book would); only
 *    the net reaches the AMM, as one swap.
 * 3. Five feeds observe the pool's price and five the true price of compute: exact, two noisy,
 *    one lagging a step, one that occasionally lies; shocks can make several lie at once. Each
 *    price is aggregated with `aggregateOracle` (median; > 25% from the 7-day mean → the mean).
 *    Without the fallback mechanism, every round is aggregated with an empty history: the
 *    median alone.
 * 4. The reserve (when enabled) trades `antiDecoupling`'s amount, bounded by what brings the pool
 *    back to the anchor (`tradeToReachPrice`), by its holdings, and by the widest slippage guard.
 */
export interface Mechanisms {
  /** §3.3: the 25% jump → 7-day mean fallback of the oracles. */
  readonly oracleFallback: boolean;
  /** §4.2: the three-level burning controller (else the base burn rate, no cold storage). */
  readonly burningController: boolean;
  /** §4.3: the reserve's anti-decoupling trades. */
  readonly reserve: boolean;
}

export const ALL_MECHANISMS: Mechanisms = {
  oracleFallback: true,
  burningController: true,
  reserve: true,
};

export interface MarketParams {
  /** σ of the sentiment walk, per √day (0.06 ≈ 115% a year: §2.2's "volatility of over 90%"). */
  readonly sentimentVolPerSqrtDay: number;
  /** θ: how fast sentiment returns to 0, per day (0.1: a half-life of about a week). */
  readonly sentimentReversionPerDay: number;
  /** Ordinary sentiment jumps per day, and their σ in log price. */
  readonly jumpRatePerDay: number;
  readonly jumpSigma: number;
  /** Share of the gap to their target that traders close per day. */
  readonly traderAdjustPerDay: number;
  /** σ of the compute price's log random walk, per √day. */
  readonly computePriceVolPerSqrtDay: number;
  /** σ of the noisy feeds' relative error. */
  readonly feedNoise: number;
  /** Chance per day that the lie-prone feed starts lying (for about a day). */
  readonly feedLieRatePerDay: number;
  /** Share of minted DPN devices sell at once; share of payments requesters buy on the pool. */
  readonly deviceSellShare: number;
  readonly requesterBuyShare: number;
  /** Widest price-impact guard the traders and the reserve use (docs: up to maxSlippageBps). */
  readonly tradeSlippageBps: bigint;
}

export const DEFAULT_MARKET_PARAMS: MarketParams = {
  sentimentVolPerSqrtDay: 0.06,
  sentimentReversionPerDay: 0.1,
  jumpRatePerDay: 0.05,
  jumpSigma: 0.15,
  traderAdjustPerDay: 0.5,
  computePriceVolPerSqrtDay: 0.02,
  feedNoise: 0.01,
  feedLieRatePerDay: 0.02,
  deviceSellShare: 0.5,
  requesterBuyShare: 0.5,
  tradeSlippageBps: 5_000n,
};

export type OracleTarget = "dpn" | "compute";

/** Feeds per oracle (§3.3: five). The last feeds are the ones an attack corrupts first. */
export const FEEDS = 5;
const FEED_IDS = ["exact", "noisy-a", "noisy-b", "lagging", "lie-prone"] as const;

/** Trades smaller than this (10^-6 DPN or stable) are skipped: they would pay out nothing. */
const DUST = 1_000_000_000_000n;

/** Math.min does not take bigints. */
function minAmount(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

interface OracleState {
  readonly history: OracleRound[];
  published: number;
  previousTrue: number;
  /** Per feed: a multiplier while lying, and until when (ms). */
  readonly lieMultiplier: Float64Array;
  readonly lieUntilMs: Float64Array;
  fallbackRounds: number;
}

function newOracle(initial: number, startMs: number, historyStepMs: number): OracleState {
  // Seven days of calm rounds before the start: the fallback has a reference from step one.
  const history: OracleRound[] = [];
  for (let at = startMs - 7 * 86_400_000; at < startMs; at += historyStepMs) {
    history.push({ atMs: at, median: initial });
  }
  return {
    history,
    published: initial,
    previousTrue: initial,
    lieMultiplier: new Float64Array(FEEDS).fill(1),
    lieUntilMs: new Float64Array(FEEDS),
    fallbackRounds: 0,
  };
}

export interface StepFlows {
  /** DPN devices want to sell this step. */
  readonly deviceSellDpn: number;
  /** DPN requesters want to buy this step. */
  readonly requesterBuyDpn: number;
  /** V: what one DPN redeems for in compute at the true compute price, USD. */
  readonly fundamentalUsd: number;
}

export interface ReserveAction {
  /** blocked: the oracle and the pool disagree on the side; unfunded: nothing to trade with. */
  readonly action: "none" | "sell-dpn" | "buy-dpn" | "blocked" | "unfunded";
  readonly amountIn: bigint;
}

export class Market {
  /** Traders' sentiment, log price relative to V. */
  sentiment = 0;
  /** The true market price of compute, USD/CU (the compute oracle's feeds observe it). */
  computePriceUsdPerCu: number;
  readonly dpn: OracleState;
  readonly compute: OracleState;
  reserveTrades = 0;
  reserveBlocked = 0;
  /** Stable traders brought in (+) or took out (−), for reporting. */
  tradersNetStable = 0n;
  private readonly readings: FeedReading[] = [];
  private readonly anchorPrice: bigint;

  constructor(
    private readonly economy: Economy,
    private readonly rng: Xoshiro128,
    private readonly mechanisms: Mechanisms,
    private readonly params: MarketParams,
    private readonly oracleParams: OracleParams,
    private readonly antiParams: AntiDecouplingParams,
    private readonly anchorUsd: number,
    computePriceUsdPerCu: number,
    startMs: number,
    stepMs: number,
  ) {
    this.computePriceUsdPerCu = computePriceUsdPerCu;
    this.dpn = newOracle(this.spotUsd(), startMs, stepMs);
    this.compute = newOracle(computePriceUsdPerCu, startMs, stepMs);
    this.anchorPrice = dpnFromNumber(anchorUsd);
    for (let f = 0; f < FEEDS; f++) {
      this.readings.push({ feedId: FEED_IDS[f] ?? `feed-${f}`, value: 1, observedAtMs: startMs });
    }
  }

  /** The pool's spot price, USD (stable) per DPN: the DPN market price. */
  spotUsd(): number {
    // The pool is immutable: its price changes only when the economy holds a new pool object.
    const pool = this.economy.pool;
    if (pool !== this.spotPool) {
      this.spotPool = pool;
      this.spotCache = dpnToNumber(spotPrice(pool));
    }
    return this.spotCache;
  }

  private spotPool: AmmPool | undefined;
  private spotCache = 0;

  /** Advances sentiment and the compute price by `dtDays` (the exogenous part of the model). */
  advance(nowMs: number, dtDays: number): void {
    this.lastNowMs = nowMs;
    const p = this.params;
    const rng = this.rng;
    const jumps = rng.nextPoisson(p.jumpRatePerDay * dtDays);
    let jump = 0;
    for (let j = 0; j < jumps; j++) jump += p.jumpSigma * rng.nextNormal();
    this.sentiment +=
      -p.sentimentReversionPerDay * this.sentiment * dtDays +
      p.sentimentVolPerSqrtDay * Math.sqrt(dtDays) * rng.nextNormal() +
      jump;
    this.computePriceUsdPerCu *= Math.exp(
      p.computePriceVolPerSqrtDay * Math.sqrt(dtDays) * rng.nextNormal(),
    );
    // The lie-prone feed of each oracle may start lying: up or down by 35–170%, for about a day.
    for (const oracle of [this.dpn, this.compute]) {
      const starts = rng.nextFloat() < p.feedLieRatePerDay * dtDays;
      const up = rng.nextFloat() < 0.5;
      const size = Math.exp(0.3 + 0.7 * rng.nextFloat());
      const lengthDays = -Math.log(rng.nextOpenFloat());
      if (starts) this.corrupt(oracle, 1, up ? size : 1 / size, lengthDays, this.lastNowMs);
    }
  }

  private lastNowMs = 0;

  /** A shock: `feeds` feeds of one oracle report `multiplier` × the truth for `days`. */
  attack(
    nowMs: number,
    target: OracleTarget,
    feeds: number,
    multiplier: number,
    days: number,
  ): void {
    this.corrupt(target === "dpn" ? this.dpn : this.compute, feeds, multiplier, days, nowMs);
  }

  private corrupt(
    oracle: OracleState,
    feeds: number,
    multiplier: number,
    days: number,
    nowMs: number,
  ): void {
    for (let k = 0; k < Math.min(feeds, FEEDS); k++) {
      const f = FEEDS - 1 - k;
      oracle.lieMultiplier[f] = multiplier;
      oracle.lieUntilMs[f] = nowMs + days * 86_400_000;
    }
  }

  /**
   * The step's trading: the net of device sales, requester purchases and traders' adjustment
   * toward V · e^s, as one swap against the pool.
   */
  trade(nowMs: number, dtDays: number, flows: StepFlows): void {
    this.lastNowMs = nowMs;
    const p = this.params;
    const pool = this.economy.pool;
    const spot = this.spotUsd();
    const targetUsd = flows.fundamentalUsd * Math.exp(this.sentiment);
    let netSellDpn =
      p.deviceSellShare * flows.deviceSellDpn - p.requesterBuyShare * flows.requesterBuyDpn;
    if (targetUsd > 0 && Number.isFinite(targetUsd)) {
      const gap = tradeToReachPrice(pool, dpnFromNumber(targetUsd));
      const fraction = 1 - (1 - p.traderAdjustPerDay) ** dtDays;
      const size = dpnToNumber(gap.amountIn) * fraction;
      netSellDpn += gap.side === "sell-dpn" ? size : -size / spot;
    }
    if (netSellDpn > 0) {
      const wanted = dpnFromNumber(netSellDpn);
      const users = this.economy.accounts.users;
      const amount = this.bounded("sell-dpn", minAmount(wanted, users));
      if (amount === 0n) return;
      const result = swap(pool, "sell-dpn", amount, { nowMs, maxSlippageBps: p.tradeSlippageBps });
      this.economy.pool = result.pool;
      this.economy.accounts.users -= amount;
      this.tradersNetStable -= result.quote.amountOut;
    } else if (netSellDpn < 0) {
      const amount = this.bounded("buy-dpn", dpnFromNumber(-netSellDpn * spot));
      if (amount === 0n) return;
      const result = swap(pool, "buy-dpn", amount, { nowMs, maxSlippageBps: p.tradeSlippageBps });
      this.economy.pool = result.pool;
      this.economy.accounts.users += result.quote.amountOut;
      this.tradersNetStable += amount;
    }
  }

  /** Caps an input at the slippage guard the model trades under; 0 for dust. */
  private bounded(side: SwapSide, amount: bigint): bigint {
    const largest = maxAmountInForSlippage(this.economy.pool, side, this.params.tradeSlippageBps);
    const capped = minAmount(amount, largest);
    return capped < DUST ? 0n : capped;
  }

  /** One oracle round for both prices; publishes and records them (docs/protocol.md §Oracles). */
  oracleRound(nowMs: number): void {
    this.lastNowMs = nowMs;
    this.round(this.dpn, this.spotUsd(), nowMs);
    this.round(this.compute, this.computePriceUsdPerCu, nowMs);
  }

  private round(oracle: OracleState, truth: number, nowMs: number): void {
    const noise = this.params.feedNoise;
    const rng = this.rng;
    const values = [
      truth,
      truth * Math.exp(noise * rng.nextNormal()),
      truth * Math.exp(noise * rng.nextNormal()),
      oracle.previousTrue,
      truth,
    ];
    for (let f = 0; f < FEEDS; f++) {
      const lying = nowMs < (oracle.lieUntilMs[f] as number);
      const value = (values[f] as number) * (lying ? (oracle.lieMultiplier[f] as number) : 1);
      this.readings[f] = { feedId: FEED_IDS[f] ?? `feed-${f}`, value, observedAtMs: nowMs };
    }
    oracle.previousTrue = truth;
    const history = this.mechanisms.oracleFallback ? oracle.history : [];
    try {
      const result = aggregateOracle(this.readings, history, nowMs, this.oracleParams);
      oracle.published = result.value;
      if (result.status === "fallback") oracle.fallbackRounds += 1;
      oracle.history.push(result.round);
      const oldest = nowMs - this.oracleParams.fallbackWindowMs;
      while ((oracle.history[0]?.atMs ?? nowMs) < oldest) oracle.history.shift();
    } catch (error) {
      // Fewer than three live feeds: keep the last published price (docs/protocol.md §Oracles).
      if (!(error instanceof DpnError) || error.code !== "ORACLE_INSUFFICIENT_FEEDS") throw error;
    }
  }

  /** The reserve's anti-decoupling trade for this step (docs/protocol.md §Anti-decoupling). */
  defend(nowMs: number): ReserveAction {
    if (!this.mechanisms.reserve) return { action: "none", amountIn: 0n };
    const a = this.economy.accounts;
    const published = this.dpn.published;
    const decision = antiDecoupling(published, this.anchorUsd, a.reserveDpn, this.antiParams);
    if (decision.action === "none") return { action: "none", amountIn: 0n };
    const pool = this.economy.pool;
    const bound = tradeToReachPrice(pool, this.anchorPrice);
    // The oracle says one thing and the pool another (a lying or lagging oracle): never trade
    // the pool further from the anchor.
    if (bound.side !== decision.action) {
      this.reserveBlocked += 1;
      return { action: "blocked", amountIn: 0n };
    }
    let amount: bigint;
    if (decision.action === "sell-dpn") {
      amount = minAmount(decision.amount, bound.amountIn);
    } else {
      // The decision is in DPN; the reserve pays stable for it at the published price.
      const budget = dpnFromNumber(dpnToNumber(decision.amount) * published);
      amount = minAmount(budget, bound.amountIn);
      if (a.reserveStable < amount) amount = a.reserveStable;
    }
    amount = this.bounded(decision.action, amount);
    if (amount === 0n) return { action: "unfunded", amountIn: 0n };
    const result = swap(pool, decision.action, amount, {
      nowMs,
      maxSlippageBps: this.params.tradeSlippageBps,
    });
    this.economy.pool = result.pool;
    if (decision.action === "sell-dpn") {
      a.reserveDpn -= amount;
      a.reserveStable += result.quote.amountOut;
    } else {
      a.reserveStable -= amount;
      a.reserveDpn += result.quote.amountOut;
    }
    this.reserveTrades += 1;
    return { action: decision.action, amountIn: amount };
  }
}
