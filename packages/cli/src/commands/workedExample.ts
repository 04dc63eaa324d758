import {
  aggregateOracle,
  antiDecoupling,
  assignFragments,
  burningDecision,
  type Candidate,
  classifyDevice,
  costCu,
  DEVICE_CLASSES,
  type DeviceClass,
  type ExchangeRate,
  exchangeRate,
  fragmentCount,
  genesisAllocation,
  isEligible,
  ONE_DPN,
  type OracleResult,
  priceDpn,
  type Reward,
  reward,
  seededRng,
  splitPayment,
  splitWork,
  type WorkSpec,
} from "@dpn/protocol";

/**
 * A worked example computed by the protocol core: a seeded network of devices, an oracle round,
 * the exchange rate, a ZK job's quote, split and assignment, the rewards (including a rig's
 * penalty and decay) and the split of the payment. Every number is computed, none is canned.
 */
export interface WorkedExampleOptions {
  readonly devices: number;
  readonly seed: string;
  readonly proofs: number;
}

interface Device extends Candidate {
  readonly deviceClass: DeviceClass;
  readonly layer: "light" | "heavy";
  readonly longTail: boolean;
}

const CLASS_MIX: ReadonlyArray<[DeviceClass, number, number]> = [
  // class, share of devices, typical benchmark CU/s
  ["phone", 0.42, 2],
  ["browser", 0.1, 2],
  ["iot", 0.08, 0.5],
  ["vehicle", 0.06, 8],
  ["pc", 0.2, 6],
  ["server", 0.1, 48],
  ["rig", 0.04, 400],
];
// One geohash cell (precision 4) per metropolitan region, so the map has real places.
const REGIONS = [
  "u33d",
  "u09t",
  "gcpv",
  "dr5r",
  "9q8y",
  "xn76",
  "wx4g",
  "tdr1",
  "r3gx",
  "6gyf",
  "s00t",
  "kzf0",
];

function pickClass(u: number): [DeviceClass, number] {
  let acc = 0;
  for (const [deviceClass, share, cuPerSec] of CLASS_MIX) {
    acc += share;
    if (u < acc) return [deviceClass, cuPerSec];
  }
  return ["phone", 2];
}

export function seededNetwork(count: number, seed: string): Device[] {
  const rng = seededRng(`${seed}/network`);
  return Array.from({ length: count }, (_, i) => {
    const [declared, typical] = pickClass(rng.nextFloat());
    const benchmark = typical * (0.5 + rng.nextFloat());
    const classification = classifyDevice(declared, benchmark);
    return {
      deviceId: `dev-${String(i).padStart(5, "0")}`,
      geohash: REGIONS[rng.nextInt(REGIONS.length)] ?? "u33d",
      capabilityCuPerSec: benchmark,
      reputation: 0.6 + 0.4 * rng.nextFloat(),
      deviceClass: classification.deviceClass,
      layer: classification.layer,
      longTail: classification.longTail,
    };
  });
}

export interface WorkedExample {
  readonly options: WorkedExampleOptions;
  readonly network: {
    total: number;
    byClass: Record<string, number>;
    rigShare: number;
    longTailShare: number;
  };
  readonly oracle: OracleResult;
  readonly computeOracle: OracleResult;
  readonly rate: ExchangeRate;
  readonly job: {
    work: WorkSpec;
    cu: number;
    price: bigint;
    eligible: number;
    fragments: number;
    sizes: number[];
    assignments: Array<{
      fragment: number;
      deviceId: string;
      deviceClass: DeviceClass;
      region: string;
      proofs: number;
      reward: Reward;
    }>;
  };
  readonly rigJob: { work: WorkSpec; cu: number; rig: Reward; pc: Reward; operatingDays: number };
  readonly burning: ReturnType<typeof burningDecision>;
  readonly split: ReturnType<typeof splitPayment>;
  readonly antiDecoupling: ReturnType<typeof antiDecoupling>;
  readonly genesis: ReturnType<typeof genesisAllocation>;
}

export function workedExample(options: WorkedExampleOptions): WorkedExample {
  const devices = seededNetwork(options.devices, options.seed);
  const byClass: Record<string, number> = {};
  for (const c of DEVICE_CLASSES) byClass[c] = 0;
  let rigCapacity = 0;
  let totalCapacity = 0;
  for (const d of devices) {
    byClass[d.deviceClass] = (byClass[d.deviceClass] ?? 0) + 1;
    totalCapacity += d.capabilityCuPerSec;
    if (d.deviceClass === "rig") rigCapacity += d.capabilityCuPerSec;
  }
  const rigShare = totalCapacity > 0 ? rigCapacity / totalCapacity : 0;
  const longTailShare =
    devices.length > 0 ? devices.filter((d) => d.longTail).length / devices.length : 0;

  // Five DPN/USD feeds, one of them lying: the median ignores it. Seeded values: the ids say
  // simulated, and none is named after an oracle network the example does not read.
  const nowMs = 1_767_225_600_000; // 2026-01-01T00:00Z, fixed so the example is reproducible
  const priceRng = seededRng(`${options.seed}/feeds`);
  const readings = ["simulated-1", "simulated-2", "simulated-liar", "amm-twap", "reference"].map(
    (feedId, i) => ({
      feedId,
      value: i === 2 ? 0.9 : 0.142 + 0.004 * priceRng.nextFloat(),
      observedAtMs: nowMs - 120_000,
    }),
  );
  const history = Array.from({ length: 168 }, (_, h) => ({
    atMs: nowMs - (168 - h) * 3_600_000,
    median: 0.145,
  }));
  const oracle = aggregateOracle(readings, history, nowMs);
  // The compute price from its own five feeds (docs/protocol.md §Oracles): a reference of
  // 1.2e-5 USD/CU and four simulated readings within ±3% of it; their median is the reference.
  const computeOracle = aggregateOracle(
    [0.98, 1.01, 1, 1.03, 0.99].map((factor, i) => ({
      feedId: i === 2 ? "compute-reference" : `compute-simulated-${i}`,
      value: 1.2e-5 * factor,
      observedAtMs: nowMs - 120_000,
    })),
    [],
    nowMs,
  );

  const rate = exchangeRate({
    computePriceUsdPerCu: computeOracle.value,
    dpnPriceUsd: oracle.value,
    circulation: 30_000_000n * ONE_DPN,
    demandCu: 3.2e11,
    rigShare,
    longTailShare,
  });

  const work: WorkSpec = { type: "zk-groth16", constraints: 4096, proofs: options.proofs };
  const cu = costCu(work);
  const eligible = devices.filter((d) => isEligible(d, "zk-groth16"));
  const fragments = fragmentCount(eligible.length, options.proofs);
  const sizes = splitWork(options.proofs, fragments);
  const picks = assignFragments({ seed: `${options.seed}/job-1`, fragments, candidates: eligible });
  const assignments = picks.map((pick) => {
    const device = eligible.find((d) => d.deviceId === pick.deviceId) as Device;
    const proofs = sizes[pick.fragment] ?? 0;
    return {
      fragment: pick.fragment,
      deviceId: pick.deviceId,
      deviceClass: device.deviceClass,
      region: device.geohash,
      proofs,
      reward: reward(
        { cu: (cu * proofs) / options.proofs, deviceClass: device.deviceClass, operatingDays: 0 },
        rate,
      ),
    };
  });

  const renderWork: WorkSpec = { type: "render", pixels: 256 * 256, samplesPerPixel: 64 };
  const renderCu = costCu(renderWork);
  const operatingDays = 30;
  const rigJob = {
    work: renderWork,
    cu: renderCu,
    operatingDays,
    rig: reward({ cu: renderCu, deviceClass: "rig", operatingDays }, rate),
    pc: reward({ cu: renderCu, deviceClass: "pc", operatingDays }, rate),
  };

  const supplyCu = totalCapacity * 3600;
  const burning = burningDecision({
    supplyCu,
    demandCu: supplyCu * 0.7,
    standbyCu: 0,
    reserveInterest: 0n,
  });
  const price = priceDpn(cu, rate);
  return {
    options,
    network: { total: devices.length, byClass, rigShare, longTailShare },
    oracle,
    computeOracle,
    rate,
    job: { work, cu, price, eligible: eligible.length, fragments, sizes, assignments },
    rigJob,
    burning,
    split: splitPayment(price, burning.burnBps),
    antiDecoupling: antiDecoupling(oracle.value, 0.15, genesisAllocation().reservePool),
    genesis: genesisAllocation(),
  };
}
