import { type DeviceClass, isLongTail } from "@dpn/protocol";

/**
 * Device buckets. The protocol's seven classes (docs/protocol.md §Devices), with PCs split by
 * layer because a PC below 4 CU/s is light and may not take heavy work (§Task classification).
 * Allocation and rewards are computed per bucket, in aggregate.
 */
export const BUCKETS = [
  "phone",
  "iot",
  "browser",
  "vehicle",
  "pc-light",
  "pc-heavy",
  "server",
  "rig",
] as const;
export type Bucket = (typeof BUCKETS)[number];
export const BUCKET_COUNT = BUCKETS.length;
export const RIG_BUCKET = 7;

export const BUCKET_CLASS: readonly DeviceClass[] = [
  "phone",
  "iot",
  "browser",
  "vehicle",
  "pc",
  "pc",
  "server",
  "rig",
];

/** Heavy-layer, non-rig buckets: the only ones eligible for high-value heavy work (zk, fl-train). */
export const HIGH_VALUE_ELIGIBLE: readonly boolean[] = BUCKET_CLASS.map(
  (deviceClass, bucket) => bucket === 3 || bucket === 5 || deviceClass === "server",
);

export const LONG_TAIL_BUCKET: readonly boolean[] = BUCKET_CLASS.map((c) => isLongTail(c));

/**
 * What the simulated fleet looks like, per class: share of devices, mean benchmark (CU/s, §Compute
 * units) and the hours a day it is online. The defaults are assumptions, not measurements: most
 * devices are phones and browser tabs (§11.1's "50 million phones via Chrome extensions"), a few
 * rigs bring a lot of capacity each (§3.2), servers and rigs run around the clock, phones while
 * charging at night, vehicles while charging.
 */
export interface ClassSpec {
  readonly deviceShare: number;
  readonly meanCuPerSec: number;
  readonly onlineHoursPerDay: number;
}

export type FleetSpec = Readonly<Record<DeviceClass, ClassSpec>>;

export const DEFAULT_FLEET: FleetSpec = {
  phone: { deviceShare: 0.45, meanCuPerSec: 2, onlineHoursPerDay: 8 },
  iot: { deviceShare: 0.15, meanCuPerSec: 0.5, onlineHoursPerDay: 24 },
  browser: { deviceShare: 0.15, meanCuPerSec: 1.5, onlineHoursPerDay: 6 },
  vehicle: { deviceShare: 0.05, meanCuPerSec: 6, onlineHoursPerDay: 4 },
  pc: { deviceShare: 0.147, meanCuPerSec: 5, onlineHoursPerDay: 10 },
  server: { deviceShare: 0.05, meanCuPerSec: 40, onlineHoursPerDay: 24 },
  rig: { deviceShare: 0.003, meanCuPerSec: 100, onlineHoursPerDay: 24 },
};

/** Share of PCs in the heavy layer (≥ 4 CU/s) when PCs are not simulated one by one. */
export const DEFAULT_HEAVY_PC_SHARE = 0.55;

/**
 * Aggregate view of a fleet for the Monte Carlo: each bucket's share of the capacity online on
 * average, the long-tail share of the devices online on average, and each bucket's share of the
 * devices (online or not).
 */
export function fleetShares(fleet: FleetSpec): {
  capacityShare: Float64Array;
  longTailShare: number;
  deviceShare: Float64Array;
} {
  const capacity = new Float64Array(BUCKET_COUNT);
  const devices = new Float64Array(BUCKET_COUNT);
  let online = 0;
  let longTail = 0;
  for (let bucket = 0; bucket < BUCKET_COUNT; bucket++) {
    const deviceClass = BUCKET_CLASS[bucket] as DeviceClass;
    const spec = fleet[deviceClass];
    const split =
      bucket === 4 ? 1 - DEFAULT_HEAVY_PC_SHARE : bucket === 5 ? DEFAULT_HEAVY_PC_SHARE : 1;
    devices[bucket] = spec.deviceShare * split;
    const devicesOnline = spec.deviceShare * split * (spec.onlineHoursPerDay / 24);
    capacity[bucket] = devicesOnline * spec.meanCuPerSec;
    online += devicesOnline;
    if (LONG_TAIL_BUCKET[bucket] === true) longTail += devicesOnline;
  }
  const total = capacity.reduce((sum, value) => sum + value, 0);
  for (let bucket = 0; bucket < BUCKET_COUNT; bucket++) {
    capacity[bucket] = total > 0 ? (capacity[bucket] as number) / total : 0;
  }
  return {
    capacityShare: capacity,
    longTailShare: online > 0 ? longTail / online : 0,
    deviceShare: devices,
  };
}

/**
 * Work allocation in aggregate (docs/protocol.md §Task classification, §Assignment). High-value
 * work (zk-groth16, fl-train) needs the heavy layer and never goes to rigs; low-value work
 * (sql-analytics, render, hash) may go anywhere. The protocol assigns fragments at random with
 * probability proportional to capability, so in expectation each eligible device gets work in
 * proportion to its capacity: we allocate that expectation per bucket instead of drawing tasks
 * (5 M devices × thousands of fragments an hour would be all the run's time and change no total).
 *
 * Writes the CU each bucket delivers into `served` and returns the demand left unserved.
 */
export function allocateWork(
  capacityCu: Float64Array,
  highValueCu: number,
  lowValueCu: number,
  served: Float64Array,
): { servedHighCu: number; servedLowCu: number; unservedCu: number } {
  let heavyCapacity = 0;
  for (let b = 0; b < BUCKET_COUNT; b++) {
    if (HIGH_VALUE_ELIGIBLE[b] === true) heavyCapacity += capacityCu[b] as number;
  }
  const servedHigh = Math.min(highValueCu, heavyCapacity);
  const highFraction = heavyCapacity > 0 ? servedHigh / heavyCapacity : 0;
  let remaining = 0;
  for (let b = 0; b < BUCKET_COUNT; b++) {
    const cap = capacityCu[b] as number;
    const used = HIGH_VALUE_ELIGIBLE[b] === true ? cap * highFraction : 0;
    served[b] = used;
    remaining += cap - used;
  }
  const servedLow = Math.min(lowValueCu, remaining);
  const lowFraction = remaining > 0 ? servedLow / remaining : 0;
  for (let b = 0; b < BUCKET_COUNT; b++) {
    const used = served[b] as number;
    served[b] = used + ((capacityCu[b] as number) - used) * lowFraction;
  }
  return {
    servedHighCu: servedHigh,
    servedLowCu: servedLow,
    unservedCu: highValueCu - servedHigh + (lowValueCu - servedLow),
  };
}
