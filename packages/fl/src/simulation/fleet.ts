import { DpnError, seededRng } from "@dpn/protocol";
import { checkDataset, type Dataset, shuffledIndices } from "../dataset.ts";
import { FL_INVALID_SIMULATION } from "../errors.ts";

/**
 * Simulated devices: real data and real training, simulated speed. A device's compute speed is in
 * CU/s (docs/protocol.md §Compute units), so the time a local training takes is the protocol's
 * own cost model, costCu(fl-train) / speed, plus upload and latency.
 */
export interface SimDevice {
  readonly id: string;
  readonly data: Dataset;
  /** The budget key of the device's data set (privacy accounting is per device and data set). */
  readonly datasetId: string;
  readonly speedCuPerS: number;
  readonly uplinkBytesPerS: number;
  /** Fixed overhead per task (fetch the model, start up, report), seconds. */
  readonly latencyS: number;
  /** Set on devices that attack the model; honest devices leave it undefined. */
  readonly attack?: Attack;
}

/**
 * A poisoning attack: the device trains honestly, then sends −scale × its update (a boosted
 * sign flip, which drags plain averaging backwards — Fang et al. 2020 use this family).
 */
export type Attack = { readonly kind: "signFlip"; readonly scale: number };

export interface FleetOptions {
  readonly seed: string;
  /** Slowest device, CU/s. */
  readonly minSpeedCuPerS: number;
  /** fastest / slowest; speeds are spaced geometrically in between (10 for issue 6). */
  readonly speedSpread: number;
  readonly uplinkBytesPerS: number;
  readonly latencyS: number;
  /** Share of devices that attack (rounded down), chosen at random. */
  readonly maliciousFraction?: number;
  readonly attack?: Attack;
}

/** Most devices one simulation holds: beyond this the per-round bookkeeping dominates. */
export const MAX_FLEET_DEVICES = 10_000;

/**
 * One device per data set, speeds spaced geometrically from min to min × spread and assigned in
 * a seeded random order, so speed is independent of region (and of which data a device holds).
 */
export function makeFleet(parts: readonly Dataset[], options: FleetOptions): SimDevice[] {
  const n = parts.length;
  if (n < 1 || n > MAX_FLEET_DEVICES) {
    throw new DpnError(
      FL_INVALID_SIMULATION,
      `A fleet needs 1 to ${MAX_FLEET_DEVICES} devices, got ${n}.`,
    );
  }
  const positive = (name: string, value: number): void => {
    if (!(Number.isFinite(value) && value > 0)) {
      throw new DpnError(FL_INVALID_SIMULATION, `${name} must be > 0, got ${value}.`);
    }
  };
  positive("minSpeedCuPerS", options.minSpeedCuPerS);
  positive("uplinkBytesPerS", options.uplinkBytesPerS);
  if (!(options.speedSpread >= 1 && Number.isFinite(options.speedSpread))) {
    throw new DpnError(
      FL_INVALID_SIMULATION,
      `speedSpread must be >= 1, got ${options.speedSpread}.`,
    );
  }
  if (!(options.latencyS >= 0 && Number.isFinite(options.latencyS))) {
    throw new DpnError(FL_INVALID_SIMULATION, `latencyS must be >= 0, got ${options.latencyS}.`);
  }
  const fraction = options.maliciousFraction ?? 0;
  if (!(fraction >= 0 && fraction < 1)) {
    throw new DpnError(
      FL_INVALID_SIMULATION,
      `maliciousFraction must be in [0, 1), got ${fraction}.`,
    );
  }
  if (fraction > 0 && options.attack === undefined) {
    throw new DpnError(FL_INVALID_SIMULATION, "maliciousFraction needs an attack.");
  }
  const speedOrder = shuffledIndices(n, seededRng(`fl/fleet/speed/${options.seed}`));
  const attackers = new Set(
    shuffledIndices(n, seededRng(`fl/fleet/attack/${options.seed}`)).subarray(
      0,
      Math.floor(fraction * n),
    ),
  );
  return parts.map((data, i) => {
    checkDataset(data);
    const rank = speedOrder[i] as number;
    const speed = options.minSpeedCuPerS * options.speedSpread ** (n === 1 ? 0 : rank / (n - 1));
    const device: SimDevice = {
      id: `device-${String(i).padStart(4, "0")}`,
      data,
      datasetId: `dataset-${i}`,
      speedCuPerS: speed,
      uplinkBytesPerS: options.uplinkBytesPerS,
      latencyS: options.latencyS,
    };
    return attackers.has(i) && options.attack !== undefined
      ? { ...device, attack: options.attack }
      : device;
  });
}
