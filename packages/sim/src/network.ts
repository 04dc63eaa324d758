import {
  type BurnLevel,
  burningDecision,
  DEVICE_CLASSES,
  type DeviceClass,
  decayFactor,
  dpnToNumber,
  exchangeRate,
  isLongTail,
  layerOf,
} from "@dpn/protocol";
import { Economy } from "./economy.ts";
import { allocateWork, BUCKET_COUNT, DEFAULT_FLEET, type FleetSpec, RIG_BUCKET } from "./fleet.ts";
import { ALL_MECHANISMS, Market, type MarketParams, type Mechanisms } from "./market.ts";
import {
  integerIn,
  MAX_DEVICES,
  MAX_NETWORK_HOURS,
  marketParams,
  numberIn,
  protocolParams,
  seedOption,
} from "./options.ts";
import { seriesSampling } from "./path.ts";
import { Xoshiro128 } from "./prng.ts";
import { gini } from "./stats.ts";

export interface NetworkOptions {
  /** Devices in the network (1 … 10,000,000); constant in expectation (churned slots refill). */
  readonly devices: number;
  readonly seed: string;
  /** Simulated hours, one step each (default 24). */
  readonly hours?: number;
  /** Share of devices leaving per 30 days (default 0.18, §2.2's "18% monthly node churn"). */
  readonly monthlyChurn?: number;
  /** Mean demand as a share of the mean capacity online (default 0.5). */
  readonly demandToCapacity?: number;
  /** Share of demand that is high-value heavy work: zk-groth16, fl-train (default 0.4). */
  readonly highValueShare?: number;
  /** Share of joining devices that are rigs (default 3× the fleet's: rigs try to dominate). */
  readonly rigJoinShare?: number;
  /** Demand shocks per day (default 0.5): demand × 0.3–3 for 2–12 hours. */
  readonly demandShocksPerDay?: number;
  readonly fleet?: FleetSpec;
  readonly mechanisms?: Mechanisms;
  readonly params?: Readonly<Record<string, number>>;
  readonly market?: Partial<MarketParams>;
}

export interface NetworkStep {
  readonly hour: number;
  readonly onlineDevices: number;
  readonly capacityCu: number;
  readonly standbyCu: number;
  readonly demandCu: number;
  readonly servedCu: number;
  readonly cuPerDpn: number;
  readonly msf: number;
  readonly ehf: number;
  readonly rigShare: number;
  readonly longTailShare: number;
  readonly burnLevel: BurnLevel | "off";
  readonly burnBps: number;
  readonly mintedDpn: number;
  readonly paidDpn: number;
  readonly burnedDpn: number;
  readonly replenishedDpn: number;
  readonly priceUsd: number;
  readonly publishedPriceUsd: number;
  readonly reserveAction: string;
  readonly joined: number;
  readonly left: number;
}

export interface NetworkResult {
  readonly kind: "network";
  readonly seed: string;
  readonly devices: number;
  readonly hours: number;
  readonly steps: readonly NetworkStep[];
  /** Ledger totals in base units (decimal strings: exact, JSON-safe). */
  readonly ledger: {
    readonly genesisOutstanding: string;
    readonly outstanding: string;
    readonly minted: string;
    readonly burned: string;
    readonly replenished: string;
    readonly paid: string;
    readonly unminted: string;
    readonly unpaid: string;
    readonly emissionPool: string;
    readonly reserveDpn: string;
    readonly circulation: string;
    /** outstanding − genesis = replenished − burned, exactly (asserted every step). */
    readonly balanced: boolean;
  };
  readonly rewardGini: number;
  /**
   * Reward Gini over time (earnings since the start, or since a churned slot's new device
   * joined) at sampled hours (≤ MAX_SERIES_POINTS), over a systematic sample of the devices:
   * every ⌈devices / GINI_SAMPLE_DEVICES⌉-th slot, so all of them in a small network.
   */
  readonly rewardGiniSeries: {
    readonly hours: readonly number[];
    readonly gini: readonly number[];
    readonly sampleDevices: number;
  };
  readonly meanEarnedDpnByClass: Readonly<Record<DeviceClass, number>>;
  readonly devicesByClass: Readonly<Record<DeviceClass, number>>;
  readonly churn: { readonly left: number; readonly joined: number };
  readonly elapsedMs: number;
}

const HOURS_PER_MONTH = 720;
/**
 * Devices the Gini over time is read from: sorting 5 M earnings at every sampled hour would cost
 * seconds; a systematic sample of 10,000 costs ~1 ms and puts the Gini within ~0.01.
 */
export const GINI_SAMPLE_DEVICES = 10_000;
const DEMAND_HORIZON_HOURS = 720;
/** Regions (UTC offsets in hours) and their weights: where devices are, for diurnal cycles. */
const REGION_OFFSETS = [-8, -5, -3, 0, 1, 3, 5, 8, 9, 10] as const;
const REGION_WEIGHTS = [0.08, 0.12, 0.06, 0.08, 0.14, 0.06, 0.16, 0.18, 0.06, 0.06] as const;
/** Local hour each class's online window opens (servers, rigs, IoT: always on). */
const LOCAL_START: Readonly<Record<DeviceClass, number>> = {
  phone: 23,
  iot: 0,
  browser: 9,
  vehicle: 19,
  pc: 8,
  server: 0,
  rig: 0,
};
const RIG_CLASS = DEVICE_CLASSES.indexOf("rig");

interface Devices {
  readonly cls: Uint8Array;
  readonly bucket: Uint8Array;
  readonly capacity: Float32Array;
  readonly startHour: Uint8Array;
  readonly duration: Uint8Array;
  readonly standbyRank: Float32Array;
  /** Hour (relative to the run) the rig's current continuous run began (§Time decay). */
  readonly runStartHour: Float32Array;
  readonly earned: Float64Array;
}

/**
 * The agent-based network model (see the package README). Devices live in typed arrays
 * (struct of arrays, ~30 bytes each): 5 M devices take ~150 MB. Each hour: churn, the demand
 * process, capacity online (diurnal windows by class and region, minus cold storage), the rate
 * from the protocol, the burning controller, work allocation per bucket, rewards per bucket via
 * `reward`, payments via `priceDpn`/`splitPayment`, replenishment, then the market model.
 */
export function runNetwork(options: NetworkOptions): NetworkResult {
  const started = performance.now();
  const devices = integerIn(
    "devices",
    options.devices,
    1,
    MAX_DEVICES,
    "Simulate between 1 and 10,000,000 devices (5,000,000 run a day in well under a minute).",
  );
  const seed = seedOption(options.seed);
  const hours = integerIn(
    "hours",
    options.hours ?? 24,
    1,
    MAX_NETWORK_HOURS,
    "Simulate between 1 hour and a year (8760 hours).",
  );
  const monthlyChurn = numberIn(
    "monthlyChurn",
    options.monthlyChurn ?? 0.18,
    0,
    1,
    "A share per 30 days, e.g. 0.18 for 18%.",
  );
  const demandToCapacity = numberIn(
    "demandToCapacity",
    options.demandToCapacity ?? 0.5,
    0,
    100,
    "Mean demand over mean capacity online, e.g. 0.5.",
  );
  const highValueShare = numberIn(
    "highValueShare",
    options.highValueShare ?? 0.4,
    0,
    1,
    "A share in [0, 1].",
  );
  const fleet = options.fleet ?? DEFAULT_FLEET;
  const rigJoinShare = numberIn(
    "rigJoinShare",
    options.rigJoinShare ?? Math.min(1, fleet.rig.deviceShare * 3),
    0,
    1,
    "A share in [0, 1].",
  );
  const demandShocksPerDay = numberIn(
    "demandShocksPerDay",
    options.demandShocksPerDay ?? 0.5,
    0,
    24,
    "Shocks per day, e.g. 0.5.",
  );
  validateFleet(fleet);
  const mechanisms = options.mechanisms ?? ALL_MECHANISMS;
  const params = protocolParams(options.params);
  const market = marketParams(options.market);
  const rng = new Xoshiro128(`${seed}/network`);
  const anchor = params.rate.basePriceUsdPerDpn;

  // Class draw tables: the fleet mix, and the mix of joiners (rigs at rigJoinShare).
  const initialCdf = classCdf(fleet, fleet.rig.deviceShare);
  const joinCdf = classCdf(fleet, rigJoinShare);
  const d: Devices = {
    cls: new Uint8Array(devices),
    bucket: new Uint8Array(devices),
    capacity: new Float32Array(devices),
    startHour: new Uint8Array(devices),
    duration: new Uint8Array(devices),
    standbyRank: new Float32Array(devices),
    runStartHour: new Float32Array(devices),
    earned: new Float64Array(devices),
  };
  const ceilings = params.devices.ceilingCuPerSec;
  const place = (i: number, cdf: Float64Array, nowHour: number, initial: boolean): void => {
    const u = rng.nextFloat();
    let c = 0;
    while (c < DEVICE_CLASSES.length - 1 && u >= (cdf[c] as number)) c += 1;
    const deviceClass = DEVICE_CLASSES[c] as DeviceClass;
    const spec = fleet[deviceClass];
    // Log-normal benchmark around the class mean (σ = 0.5), never above the class ceiling
    // (a device above it would be classified a rig, docs/protocol.md §Devices).
    const raw = spec.meanCuPerSec * Math.exp(0.5 * rng.nextNormal() - 0.125);
    const capacity = Math.min(raw, ceilings[deviceClass]);
    const regionDraw = rng.nextFloat();
    let region = 0;
    let acc = REGION_WEIGHTS[0];
    while (region < REGION_OFFSETS.length - 1 && regionDraw >= acc) {
      region += 1;
      acc += REGION_WEIGHTS[region] ?? 0;
    }
    const jitter = rng.nextInt(4);
    const local = LOCAL_START[deviceClass] + jitter;
    d.cls[i] = c;
    d.bucket[i] = bucketOf(deviceClass, capacity, params.devices);
    d.capacity[i] = capacity;
    d.startHour[i] = (((local - (REGION_OFFSETS[region] ?? 0)) % 24) + 24) % 24;
    d.duration[i] = Math.max(1, Math.min(24, Math.round(spec.onlineHoursPerDay)));
    d.standbyRank[i] = rng.nextFloat();
    // Rigs already in the network have been running 0–60 days; joiners start a fresh run.
    d.runStartHour[i] = initial ? nowHour - 24 * 60 * rng.nextFloat() : nowHour;
    d.earned[i] = 0;
  };
  for (let i = 0; i < devices; i++) place(i, initialCdf, 0, true);

  // Mean capacity online per hour (CU), the demand process's scale.
  let meanOnlineCu = 0;
  for (let i = 0; i < devices; i++) {
    meanOnlineCu += (d.capacity[i] as number) * 3600 * ((d.duration[i] as number) / 24);
  }
  const baseDemandCu = meanOnlineCu * demandToCapacity;

  const startMs = 30 * 86_400_000;
  const economy = new Economy({
    anchorUsd: anchor,
    initialUsersDpn: 10_000_000n * 10n ** 18n,
    initialReserveStable: 0n,
    recycleBps: params.supply.recycleBps,
    antiMonopolyFundBps: params.payments.antiMonopolyFundBps,
    nowMs: startMs,
  });
  const computePrice = 1.2e-5;
  const mkt = new Market(
    economy,
    rng,
    mechanisms,
    market,
    params.oracle,
    params.antiDecoupling,
    anchor,
    computePrice,
    startMs,
    3_600_000,
  );

  const demandWindow = new Float64Array(DEMAND_HORIZON_HOURS).fill(baseDemandCu);
  let demandWindowSum = baseDemandCu * DEMAND_HORIZON_HOURS;
  const hazard = 1 - (1 - monthlyChurn) ** (1 / HOURS_PER_MONTH);
  let demandNoise = 0;
  let shockMultiplier = 1;
  let shockUntil = -1;
  let standbyCu = 0;
  let standbyFraction = 0;
  let left = 0;
  let joined = 0;
  const activeCap = new Float64Array(BUCKET_COUNT);
  const served = new Float64Array(BUCKET_COUNT);
  const rewardCu = new Float64Array(BUCKET_COUNT);
  const perCu = new Float64Array(BUCKET_COUNT);
  const onlineByClass = new Float64Array(DEVICE_CLASSES.length);
  const longTailClass = DEVICE_CLASSES.map((c) => isLongTail(c));
  const steps: NetworkStep[] = [];
  const { stride: giniStride } = seriesSampling(hours);
  const sampleStride = Math.ceil(devices / GINI_SAMPLE_DEVICES);
  const sample = new Float64Array(Math.ceil(devices / sampleStride));
  const giniHours: number[] = [];
  const giniValues: number[] = [];

  for (let hour = 0; hour < hours; hour++) {
    const nowMs = startMs + (hour + 1) * 3_600_000;
    // 1. Churn: each device leaves with the hourly hazard; its slot is taken by a joiner.
    // Geometric skips visit only the slots that churn (~1,400 an hour for 5 M devices).
    let churnedThisHour = 0;
    for (let i = rng.nextGeometric(hazard); i < devices; i += 1 + rng.nextGeometric(hazard)) {
      place(i, joinCdf, hour, false);
      churnedThisHour += 1;
    }
    left += churnedThisHour;
    joined += churnedThisHour;

    // 2. Demand: a diurnal cycle (peak at 14:00 UTC), an AR(1) log noise, and shocks.
    mkt.advance(nowMs, 1 / 24);
    demandNoise += -0.05 * demandNoise + 0.05 * rng.nextNormal();
    const shockStarts = rng.nextFloat() < demandShocksPerDay / 24;
    const shockSize = 0.3 * Math.exp(Math.log(10) * rng.nextFloat());
    const shockHours = 2 + rng.nextInt(11);
    if (shockStarts) {
      shockMultiplier = shockSize;
      shockUntil = hour + shockHours;
    }
    if (hour >= shockUntil) shockMultiplier = 1;
    const utcHour = hour % 24;
    const diurnal = 1 + 0.3 * Math.sin((2 * Math.PI * (utcHour - 8)) / 24);
    const demandCu = baseDemandCu * diurnal * Math.exp(demandNoise) * shockMultiplier;
    const slot = hour % DEMAND_HORIZON_HOURS;
    demandWindowSum += demandCu - (demandWindow[slot] as number);
    demandWindow[slot] = demandCu;

    // 3. Capacity online (pass 1 over the devices). Standby is last hour's decision.
    const fractionThisHour = standbyFraction;
    activeCap.fill(0);
    onlineByClass.fill(0);
    let onlineCu = 0;
    let standbyNowCu = 0;
    let rigCapacity = 0;
    let rigDecayedCapacity = 0;
    const { cls, bucket, capacity, startHour, duration, standbyRank, runStartHour } = d;
    for (let i = 0; i < devices; i++) {
      if ((utcHour - (startHour[i] as number) + 24) % 24 >= (duration[i] as number)) continue;
      const c = cls[i] as number;
      const cu = (capacity[i] as number) * 3600;
      onlineByClass[c] = (onlineByClass[c] as number) + 1;
      onlineCu += cu;
      if (c === RIG_CLASS) rigCapacity += cu;
      if ((standbyRank[i] as number) < fractionThisHour) {
        standbyNowCu += cu;
        continue;
      }
      const b = bucket[i] as number;
      activeCap[b] = (activeCap[b] as number) + cu;
      if (c === RIG_CLASS) {
        rigDecayedCapacity +=
          cu * decayFactor("rig", (hour - (runStartHour[i] as number)) / 24, params.decay);
      }
    }
    let onlineDevices = 0;
    let longTailOnline = 0;
    for (let c = 0; c < DEVICE_CLASSES.length; c++) {
      onlineDevices += onlineByClass[c] as number;
      if (longTailClass[c] === true) longTailOnline += onlineByClass[c] as number;
    }
    const rigShare = onlineCu > 0 ? rigCapacity / onlineCu : 0;
    const longTailShare = onlineDevices > 0 ? longTailOnline / onlineDevices : 0;
    const activeCu = onlineCu - standbyNowCu;

    // 4. The rate (docs/protocol.md §Exchange rate) from measured inputs and the oracles.
    const rate = exchangeRate(
      {
        computePriceUsdPerCu: mkt.compute.published,
        dpnPriceUsd: mkt.dpn.published,
        circulation: economy.accounts.users,
        demandCu: demandWindowSum,
        rigShare,
        longTailShare,
      },
      params.rate,
    );

    // 5. Burning controller: burn rate now, standby devices from the next hour (§4.2).
    let burnBps = BigInt(params.burning.baseBurnBps);
    let burnLevel: BurnLevel | "off" = "off";
    if (mechanisms.burningController) {
      const decision = burningDecision(
        { supplyCu: activeCu, demandCu, standbyCu: standbyNowCu, reserveInterest: 0n },
        params.burning,
      );
      burnBps = decision.burnBps;
      burnLevel = decision.level;
      standbyCu = Math.max(0, standbyNowCu + decision.coldStorageCu - decision.releaseCu);
      standbyFraction = onlineCu > 0 ? Math.min(1, standbyCu / onlineCu) : 0;
    }

    // 6. Allocation and settlement: one `reward` per bucket (rigs' CU weighted by decay).
    const highCu = demandCu * highValueShare;
    const work = allocateWork(activeCap, highCu, demandCu - highCu, served);
    for (let b = 0; b < BUCKET_COUNT; b++) {
      const cap = activeCap[b] as number;
      const use = cap > 0 ? (served[b] as number) / cap : 0;
      rewardCu[b] = b === RIG_BUCKET ? rigDecayedCapacity * use : (served[b] as number);
    }
    const settlement = economy.settleEpoch(
      rewardCu,
      work.servedHighCu + work.servedLowCu,
      rate,
      burnBps,
    );
    for (let b = 0; b < BUCKET_COUNT; b++) {
      const cu = rewardCu[b] as number;
      const cap = activeCap[b] as number;
      // DPN per CU of capacity online (decay-weighted for rigs): each device's statistical share.
      perCu[b] =
        cu > 0 && cap > 0
          ? (dpnToNumber(settlement.mintedByBucket[b] ?? 0n) / cu) * ((served[b] as number) / cap)
          : 0;
    }

    // 7. Per-device earnings (pass 2), for the reward Gini.
    const earned = d.earned;
    for (let i = 0; i < devices; i++) {
      if ((utcHour - (startHour[i] as number) + 24) % 24 >= (duration[i] as number)) continue;
      if ((standbyRank[i] as number) < fractionThisHour) continue;
      const b = bucket[i] as number;
      let amount = (capacity[i] as number) * 3600 * (perCu[b] as number);
      if (b === RIG_BUCKET)
        amount *= decayFactor("rig", (hour - (runStartHour[i] as number)) / 24, params.decay);
      earned[i] = (earned[i] as number) + amount;
    }
    if ((hour + 1) % giniStride === 0 || hour === hours - 1) {
      for (let k = 0; k < sample.length; k++) sample[k] = earned[k * sampleStride] as number;
      giniHours.push(hour);
      giniValues.push(gini(sample));
    }

    // 8. The market: trades, oracle round, reserve.
    mkt.trade(nowMs, 1 / 24, {
      deviceSellDpn: dpnToNumber(settlement.minted),
      requesterBuyDpn: dpnToNumber(settlement.paid),
      fundamentalUsd: rate.cuPerDpn * mkt.computePriceUsdPerCu,
    });
    mkt.oracleRound(nowMs);
    const reserve = mkt.defend(nowMs);
    economy.checkConservation();

    steps.push({
      hour,
      onlineDevices,
      capacityCu: onlineCu,
      standbyCu: standbyNowCu,
      demandCu,
      servedCu: work.servedHighCu + work.servedLowCu,
      cuPerDpn: rate.cuPerDpn,
      msf: rate.msf,
      ehf: rate.ehf,
      rigShare,
      longTailShare,
      burnLevel,
      burnBps: Number(burnBps),
      mintedDpn: dpnToNumber(settlement.minted),
      paidDpn: dpnToNumber(settlement.paid),
      burnedDpn: dpnToNumber(settlement.burned),
      replenishedDpn: dpnToNumber(settlement.replenished),
      priceUsd: mkt.spotUsd(),
      publishedPriceUsd: mkt.dpn.published,
      reserveAction: reserve.action,
      joined: churnedThisHour,
      left: churnedThisHour,
    });
  }

  const meanEarned = {} as Record<DeviceClass, number>;
  const counts = {} as Record<DeviceClass, number>;
  const sums = new Float64Array(DEVICE_CLASSES.length);
  const n = new Float64Array(DEVICE_CLASSES.length);
  for (let i = 0; i < devices; i++) {
    const c = d.cls[i] as number;
    sums[c] = (sums[c] as number) + (d.earned[i] as number);
    n[c] = (n[c] as number) + 1;
  }
  DEVICE_CLASSES.forEach((deviceClass, c) => {
    counts[deviceClass] = n[c] as number;
    meanEarned[deviceClass] = (n[c] as number) > 0 ? (sums[c] as number) / (n[c] as number) : 0;
  });
  const a = economy.accounts;
  const t = economy.totals;
  return {
    kind: "network",
    seed,
    devices,
    hours,
    steps,
    ledger: {
      genesisOutstanding: economy.genesisOutstanding.toString(),
      outstanding: economy.outstanding.toString(),
      minted: t.minted.toString(),
      burned: t.burned.toString(),
      replenished: t.replenished.toString(),
      paid: t.paid.toString(),
      unminted: t.unminted.toString(),
      unpaid: t.unpaid.toString(),
      emissionPool: a.emissionPool.toString(),
      reserveDpn: a.reserveDpn.toString(),
      circulation: a.users.toString(),
      balanced: economy.outstanding - economy.genesisOutstanding === t.replenished - t.burned,
    },
    rewardGini: gini(d.earned),
    rewardGiniSeries: { hours: giniHours, gini: giniValues, sampleDevices: sample.length },
    meanEarnedDpnByClass: meanEarned,
    devicesByClass: counts,
    churn: { left, joined },
    elapsedMs: performance.now() - started,
  };
}

function bucketOf(
  deviceClass: DeviceClass,
  capacity: number,
  params: Parameters<typeof layerOf>[2],
): number {
  switch (deviceClass) {
    case "phone":
      return 0;
    case "iot":
      return 1;
    case "browser":
      return 2;
    case "vehicle":
      return 3;
    case "pc":
      return layerOf("pc", capacity, params) === "heavy" ? 5 : 4;
    case "server":
      return 6;
    case "rig":
      return RIG_BUCKET;
  }
}

/** Cumulative class shares with the rig share replaced and the others rescaled to fit. */
function classCdf(fleet: FleetSpec, rigShare: number): Float64Array {
  const others = DEVICE_CLASSES.filter((c) => c !== "rig").reduce(
    (s, c) => s + fleet[c].deviceShare,
    0,
  );
  const cdf = new Float64Array(DEVICE_CLASSES.length);
  let acc = 0;
  DEVICE_CLASSES.forEach((c, k) => {
    acc +=
      c === "rig" ? rigShare : others > 0 ? (fleet[c].deviceShare / others) * (1 - rigShare) : 0;
    cdf[k] = acc;
  });
  return cdf;
}

function validateFleet(fleet: FleetSpec): void {
  let total = 0;
  for (const c of DEVICE_CLASSES) {
    const spec = fleet[c];
    numberIn(`fleet.${c}.deviceShare`, spec.deviceShare, 0, 1, "A share in [0, 1].");
    numberIn(`fleet.${c}.meanCuPerSec`, spec.meanCuPerSec, 0, 1e6, "Mean benchmark in CU/s.");
    numberIn(
      `fleet.${c}.onlineHoursPerDay`,
      spec.onlineHoursPerDay,
      1,
      24,
      "Hours online per day, 1–24.",
    );
    total += spec.deviceShare;
  }
  numberIn("fleet device shares (sum)", total, 0.999, 1.001, "Device shares must add up to 1.");
}
