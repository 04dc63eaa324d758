import {
  burningDecision,
  decayFactor,
  dpnFromNumber,
  dpnToNumber,
  type ExchangeRate,
  exchangeRate,
  type ProtocolParams,
} from "@dpn/protocol";
import { Economy } from "./economy.ts";
import {
  allocateWork,
  BUCKET_COUNT,
  DEFAULT_FLEET,
  type FleetSpec,
  fleetShares,
  RIG_BUCKET,
} from "./fleet.ts";
import { Market, type MarketParams } from "./market.ts";
import { pathSeed, Xoshiro128 } from "./prng.ts";
import type { Scenario, Shock } from "./scenarios.ts";
import { weightedGini } from "./stats.ts";

/**
 * One Monte Carlo path: an aggregate economy (capacity and demand per device bucket, no
 * individual devices) and the market model, for `days` days in steps of `stepHours`, under one
 * scenario's mechanisms. Everything random is drawn from the path's own generator, seeded by
 * (master seed, path index) only, and drawn in the same order whatever the mechanisms.
 */
export interface PathConfig {
  readonly seed: string;
  readonly days: number;
  readonly stepHours: number;
  readonly decouplingThreshold: number;
  readonly decouplingMinHours: number;
  readonly demandUsdPerDay: number;
  /** Compute capacity online over compute demanded, on average. */
  readonly capacityToDemand: number;
  /** Share of demand that is high-value heavy work (zk-groth16, fl-train). */
  readonly highValueShare: number;
  readonly computePriceUsdPerCu: number;
  readonly params: ProtocolParams;
  readonly market: MarketParams;
  readonly fleet: FleetSpec;
}

/** Per-path metrics, in this order in the result arrays. */
export const PATH_METRICS = [
  "decoupled",
  "maxAbsDeviation",
  "meanAbsDeviation",
  "shareWithin5Pct",
  "longestRunHours",
  "finalDeviation",
  "mintedDpn",
  "burnedDpn",
  "outstandingDpn",
  "reserveDpn",
  "reserveStable",
  "fallbackRounds",
  "reserveTrades",
  "circulationDpn",
  "rigShare",
  "classRewardGini",
] as const;
export const METRIC_COUNT = PATH_METRICS.length;

/**
 * Per-step series, summed over a scenario's paths at sampled step closes (the results hold their
 * means), in this order. Supply figures are cumulative from the path's start.
 */
export const PATH_SERIES = [
  "outstandingDpn",
  "circulationDpn",
  "mintedDpn",
  "burnedDpn",
  "rigShare",
  "absDeviation",
] as const;
export const SERIES_COUNT = PATH_SERIES.length;

/** Points a result's series may hold: enough for a chart, small in JSON and in worker messages. */
export const MAX_SERIES_POINTS = 200;

/**
 * Series are read every `stride` steps and at the last step: the closes of steps
 * stride − 1, 2·stride − 1, …, and steps − 1, so at most MAX_SERIES_POINTS points.
 */
export function seriesSampling(steps: number): { stride: number; points: number } {
  const stride = Math.max(1, Math.ceil(steps / MAX_SERIES_POINTS));
  return { stride, points: Math.ceil(steps / stride) };
}

/** Steps in a path of `days` days. */
export function pathSteps(days: number, stepHours: number): number {
  return Math.round((days * 24) / stepHours);
}

/** |deviation| histogram: bins of 0.5 percentage points up to 100%, and one bin above. */
export const HISTOGRAM_BIN = 0.005;
export const HISTOGRAM_BINS = 201;

const MS_PER_HOUR = 3_600_000;
/** Demand horizon of the rate (docs/protocol.md §Measured inputs of the rate): 30 days. */
const DEMAND_HORIZON_HOURS = 720;

/** Draws the path's extreme events (always at least one). */
export function drawShocks(rng: Xoshiro128, steps: number, stepHours: number): Shock[] {
  const count = 1 + rng.nextPoisson(1);
  const shocks: Shock[] = [];
  const stepsPerDay = 24 / stepHours;
  for (let i = 0; i < count; i++) {
    const kind = rng.nextInt(6);
    // Never on the first two days: the path starts calm, so the shock is visible against it.
    const atStep = Math.min(
      steps - 1,
      Math.floor(2 * stepsPerDay + rng.nextFloat() * (steps - 2 * stepsPerDay)),
    );
    const u = rng.nextFloat();
    const v = rng.nextFloat();
    if (kind === 0) shocks.push({ kind: "sentiment", atStep, logSize: -(0.3 + 0.5 * u) });
    else if (kind === 1) shocks.push({ kind: "sentiment", atStep, logSize: 0.3 + 0.5 * u });
    else if (kind === 2) {
      const multiplier = v < 0.5 ? 0.3 + 0.3 * u : 1.6 + 1.4 * u;
      shocks.push({
        kind: "oracle-attack",
        atStep,
        target: rng.nextFloat() < 0.5 ? "dpn" : "compute",
        feeds: 2 + rng.nextInt(2),
        multiplier,
        days: 1 + 4 * rng.nextFloat(),
      });
    } else if (kind === 3) {
      shocks.push({ kind: "compute-price", atStep, logSize: (v < 0.5 ? -1 : 1) * (0.3 + 0.4 * u) });
    } else if (kind === 4) {
      const multiplier = v < 0.5 ? 0.2 + 0.3 * u : 2 + 2 * u;
      shocks.push({
        kind: "demand",
        atStep,
        multiplier,
        steps: Math.ceil((3 + 7 * rng.nextFloat()) * stepsPerDay),
      });
    } else {
      shocks.push({ kind: "rig-influx", atStep, multiplier: 3 + 7 * u });
    }
  }
  return shocks;
}

export interface PathOutput {
  readonly metrics: Float64Array;
}

/**
 * Runs path `pathIndex` under `scenario`, writing METRIC_COUNT numbers at `metrics[offset…]`,
 * adding each step's |deviation| to `histogram`, and adding the sampled series to `series`
 * (SERIES_COUNT rows of `seriesSampling(steps).points`). It draws no random number for the
 * statistics, so they change nothing else.
 */
export function runPath(
  config: PathConfig,
  scenario: Scenario,
  pathIndex: number,
  metrics: Float64Array,
  offset: number,
  histogram: Float64Array,
  series: Float64Array,
): void {
  const rng = new Xoshiro128(pathSeed(config.seed, pathIndex));
  const params = config.params;
  const anchor = params.rate.basePriceUsdPerDpn;
  const stepHours = config.stepHours;
  const dtDays = stepHours / 24;
  const stepMs = stepHours * MS_PER_HOUR;
  const steps = pathSteps(config.days, stepHours);
  const { stride, points } = seriesSampling(steps);
  const startMs = 30 * 86_400_000;
  const economy = new Economy({
    anchorUsd: anchor,
    initialUsersDpn: 10_000_000n * 10n ** 18n,
    initialReserveStable: dpnFromNumber(scenario.reserveStableUsd),
    recycleBps: params.supply.recycleBps,
    antiMonopolyFundBps: params.payments.antiMonopolyFundBps,
    nowMs: startMs,
  });
  const market = new Market(
    economy,
    rng,
    scenario.mechanisms,
    config.market,
    params.oracle,
    params.antiDecoupling,
    anchor,
    config.computePriceUsdPerCu,
    startMs,
    stepMs,
  );
  const shocks = drawShocks(rng, steps, stepHours);
  const { capacityShare, longTailShare, deviceShare } = fleetShares(config.fleet);

  // Demand in CU per step at the starting compute price; trailing 30-day demand for the rate,
  // pre-filled with calm history at that level.
  const baseDemandCu = (config.demandUsdPerDay * dtDays) / config.computePriceUsdPerCu;
  const baseCapacityCu = baseDemandCu * config.capacityToDemand;
  const horizonSteps = Math.max(1, Math.round(DEMAND_HORIZON_HOURS / stepHours));
  const demandWindow = new Float64Array(horizonSteps).fill(baseDemandCu);
  let demandWindowSum = baseDemandCu * horizonSteps;
  let demandNoise = 0;
  let demandMultiplier = 1;
  let demandShockUntil = -1;
  let rigMultiplier = 1;
  let standbyCu = 0;
  const capacity = new Float64Array(BUCKET_COUNT);
  const served = new Float64Array(BUCKET_COUNT);
  const rewardCu = new Float64Array(BUCKET_COUNT);
  const earnedByBucket = new Float64Array(BUCKET_COUNT);
  const minRunSteps = Math.max(1, Math.ceil(config.decouplingMinHours / stepHours));

  let maxAbs = 0;
  let sumAbs = 0;
  let within = 0;
  let run = 0;
  let longestRun = 0;
  let deviation = 0;
  let rigShare = 0;
  let rate: ExchangeRate | undefined;

  for (let step = 0; step < steps; step++) {
    const nowMs = startMs + (step + 1) * stepMs;
    // 1. Exogenous: sentiment, compute price, demand, and this step's shocks.
    market.advance(nowMs, dtDays);
    demandNoise += -0.2 * demandNoise * dtDays + 0.1 * Math.sqrt(dtDays) * rng.nextNormal();
    for (const shock of shocks) {
      if (shock.atStep !== step) continue;
      if (shock.kind === "sentiment") market.sentiment += shock.logSize;
      else if (shock.kind === "oracle-attack")
        market.attack(nowMs, shock.target, shock.feeds, shock.multiplier, shock.days);
      else if (shock.kind === "compute-price")
        market.computePriceUsdPerCu *= Math.exp(shock.logSize);
      else if (shock.kind === "demand") {
        demandMultiplier = shock.multiplier;
        demandShockUntil = step + shock.steps;
      } else rigMultiplier = shock.multiplier;
    }
    if (step >= demandShockUntil) demandMultiplier = 1;
    // Demand is a USD budget: when compute gets cheaper, the same budget buys more CU.
    const demandCu =
      baseDemandCu *
      Math.exp(demandNoise) *
      demandMultiplier *
      (config.computePriceUsdPerCu / market.computePriceUsdPerCu);
    const slot = step % horizonSteps;
    demandWindowSum += demandCu - (demandWindow[slot] as number);
    demandWindow[slot] = demandCu;

    // 2. Capacity online, rig influx, cold storage (§4.2 acts on capacity, not just numbers).
    let online = 0;
    for (let b = 0; b < BUCKET_COUNT; b++) {
      const cu =
        baseCapacityCu * (capacityShare[b] as number) * (b === RIG_BUCKET ? rigMultiplier : 1);
      capacity[b] = cu;
      online += cu;
    }
    rigShare = online > 0 ? (capacity[RIG_BUCKET] as number) / online : 0;
    standbyCu = Math.min(standbyCu, online);
    const active = online - standbyCu;
    const activeFraction = online > 0 ? active / online : 0;
    for (let b = 0; b < BUCKET_COUNT; b++) capacity[b] = (capacity[b] as number) * activeFraction;

    // 3. The rate from the last published prices (docs/protocol.md §Exchange rate).
    rate = exchangeRate(
      {
        computePriceUsdPerCu: market.compute.published,
        dpnPriceUsd: market.dpn.published,
        circulation: economy.accounts.users,
        demandCu: Math.max(0, demandWindowSum),
        rigShare,
        longTailShare,
      },
      params.rate,
    );

    // 4. Burning controller (§4.2) or the fixed base rate.
    let burnBps = BigInt(params.burning.baseBurnBps);
    if (scenario.mechanisms.burningController) {
      const decision = burningDecision(
        { supplyCu: active, demandCu, standbyCu, reserveInterest: 0n },
        params.burning,
      );
      burnBps = decision.burnBps;
      standbyCu = Math.max(0, standbyCu + decision.coldStorageCu - decision.releaseCu);
    }

    // 5. Work, rewards, payments (§Rewards and quotes, §Payment split, §Supply).
    const highCu = demandCu * config.highValueShare;
    const work = allocateWork(capacity, highCu, demandCu - highCu, served);
    // The rig fleet has been running for 30 days on average when the path starts (§Time decay).
    const rigDecay = decayFactor("rig", 30 + (step * stepHours) / 24, params.decay);
    for (let b = 0; b < BUCKET_COUNT; b++) {
      rewardCu[b] = (served[b] as number) * (b === RIG_BUCKET ? rigDecay : 1);
    }
    const settlement = economy.settleEpoch(
      rewardCu,
      work.servedHighCu + work.servedLowCu,
      rate,
      burnBps,
    );
    for (let b = 0; b < BUCKET_COUNT; b++) {
      earnedByBucket[b] =
        (earnedByBucket[b] as number) + dpnToNumber(settlement.mintedByBucket[b] ?? 0n);
    }

    // 6. Trading, 7. oracle round on the traded price, 8. the reserve.
    market.trade(nowMs, dtDays, {
      deviceSellDpn: dpnToNumber(settlement.minted),
      requesterBuyDpn: dpnToNumber(settlement.paid),
      fundamentalUsd: rate.cuPerDpn * market.computePriceUsdPerCu,
    });
    market.oracleRound(nowMs);
    market.defend(nowMs);

    // 9. The close: deviation of the market price from the anchor.
    deviation = market.spotUsd() / anchor - 1;
    const abs = Math.abs(deviation);
    maxAbs = Math.max(maxAbs, abs);
    sumAbs += abs;
    if (abs <= 0.05) within += 1;
    if (abs > config.decouplingThreshold) {
      run += 1;
      longestRun = Math.max(longestRun, run);
    } else run = 0;
    const bin = Math.min(HISTOGRAM_BINS - 1, Math.floor(abs / HISTOGRAM_BIN));
    histogram[bin] = (histogram[bin] as number) + 1;
    if ((step + 1) % stride === 0 || step === steps - 1) {
      // Row r of PATH_SERIES at point k is series[r · points + k].
      const k = Math.floor(step / stride);
      series[k] = (series[k] as number) + dpnToNumber(economy.outstanding);
      series[points + k] = (series[points + k] as number) + dpnToNumber(economy.accounts.users);
      series[2 * points + k] =
        (series[2 * points + k] as number) + dpnToNumber(economy.totals.minted);
      series[3 * points + k] =
        (series[3 * points + k] as number) + dpnToNumber(economy.totals.burned);
      series[4 * points + k] = (series[4 * points + k] as number) + rigShare;
      series[5 * points + k] = (series[5 * points + k] as number) + abs;
    }
  }
  economy.checkConservation();

  // Every device of a bucket earning the bucket's mean: the inequality between device classes.
  for (let b = 0; b < BUCKET_COUNT; b++) {
    const devices = deviceShare[b] as number;
    earnedByBucket[b] = devices > 0 ? (earnedByBucket[b] as number) / devices : 0;
  }

  const a = economy.accounts;
  metrics[offset] = longestRun >= minRunSteps ? 1 : 0;
  metrics[offset + 1] = maxAbs;
  metrics[offset + 2] = steps > 0 ? sumAbs / steps : 0;
  metrics[offset + 3] = steps > 0 ? within / steps : 1;
  metrics[offset + 4] = longestRun * stepHours;
  metrics[offset + 5] = deviation;
  metrics[offset + 6] = dpnToNumber(economy.totals.minted);
  metrics[offset + 7] = dpnToNumber(economy.totals.burned);
  metrics[offset + 8] = dpnToNumber(economy.outstanding);
  metrics[offset + 9] = dpnToNumber(a.reserveDpn);
  metrics[offset + 10] = dpnToNumber(a.reserveStable);
  metrics[offset + 11] = market.dpn.fallbackRounds + market.compute.fallbackRounds;
  metrics[offset + 12] = market.reserveTrades;
  metrics[offset + 13] = dpnToNumber(a.users);
  metrics[offset + 14] = rigShare;
  metrics[offset + 15] = weightedGini(earnedByBucket, deviceShare);
}

export const DEFAULT_PATH_CONFIG = {
  days: 30,
  stepHours: 24,
  decouplingThreshold: 0.1,
  decouplingMinHours: 48,
  demandUsdPerDay: 50_000,
  capacityToDemand: 1.3,
  highValueShare: 0.4,
  computePriceUsdPerCu: 1.2e-5,
  fleet: DEFAULT_FLEET,
} as const;
