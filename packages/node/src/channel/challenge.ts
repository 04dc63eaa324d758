import { randomBytes, randomInt } from "node:crypto";
import {
  DEFAULT_COST_MODEL,
  type DeviceClass,
  type DeviceClassParams,
  DpnError,
  heavyFromCuPerSec,
} from "@dpn/protocol";
import { MAX_CHALLENGE_LANES, memoryProbeSize } from "@dpn/wire";

/**
 * The capability challenge (docs/protocol.md §Devices): a fresh random seed, `lanes` SHA-256
 * chains of `iterations` each (one per core the device declared) and a scrypt memory probe. The
 * device returns every lane's digest, the probe's, and the time it took. The node recomputes the
 * probe and a few lanes it picks only after the answer arrived, and measures the time itself,
 * from sending the challenge to receiving the answer: that bound cannot be shortened by lying,
 * and the fresh seed rules out precomputation. A device claiming more time than the node saw is
 * refused.
 */
export interface Challenge {
  readonly challengeId: string;
  readonly seed: string;
  readonly iterations: number;
  readonly lanes: number;
  /** 0: no probe (the declared class is never heavy, or declared too little memory). */
  readonly memoryMiB: number;
  readonly sentAtMs: number;
}

/**
 * Lanes the node recomputes, chosen after the answer: a device that skipped a share f of its lanes
 * (to look faster than it is) passes with probability (1 − f)^3 and is refused otherwise, while
 * the node spends at most three lanes' work however many cores the device claims.
 */
export const CHALLENGE_SPOT_LANES = 3;

/**
 * The memory probe's work in CU per MiB, so the probe's time counts as work rather than as
 * slowness: scrypt of 64 MiB (r = 8) took 0.36× the time of 250 000 SHA-256 iterations (0.5 CU)
 * in Node on the reference machine (median of 3 paired runs, 0.33–0.47×), ≈ 0.18 CU, ≈ 0.0028
 * CU/MiB (docs/adr/0017-measured-device-classes.md).
 */
export const MEMORY_PROBE_CU_PER_MIB = 0.0028;

/** 0.5 CU: about 0.4 s on a reference core, short enough not to delay joining. */
export const CHALLENGE_ITERATIONS = 250_000;
/** A device that takes longer than this to answer is not worth scheduling. */
export const CHALLENGE_TIMEOUT_MS = 60_000;
/** The device's own timing may exceed the node's by scheduling noise only. */
const TIMING_TOLERANCE_MS = 50;

export function newChallenge(
  nowMs: number,
  shape: { readonly iterations?: number; readonly lanes: number; readonly memoryMiB: number },
): Challenge {
  return {
    challengeId: randomBytes(8).toString("hex"),
    seed: randomBytes(32).toString("hex"),
    iterations: shape.iterations ?? CHALLENGE_ITERATIONS,
    lanes: shape.lanes,
    memoryMiB: shape.memoryMiB,
    sentAtMs: nowMs,
  };
}

/**
 * The shape of the challenge for a registration: one lane per declared core (at most
 * MAX_CHALLENGE_LANES), and the heavy layer's memory probe for a class that can be heavy and
 * declared at least that much memory (one that declared less is light without being asked).
 */
export function challengeShape(
  register: {
    readonly deviceClass: DeviceClass;
    readonly cores: number;
    readonly memoryMiB: number;
  },
  params: DeviceClassParams,
  iterations?: number,
): { iterations?: number; lanes: number; memoryMiB: number } {
  const probe = memoryProbeSize(params.heavyMinMemoryMiB);
  const canBeHeavy = Number.isFinite(heavyFromCuPerSec(register.deviceClass, params));
  return {
    ...(iterations === undefined ? {} : { iterations }),
    lanes: Math.min(register.cores, MAX_CHALLENGE_LANES),
    memoryMiB: canBeHeavy && probe <= register.memoryMiB ? probe : 0,
  };
}

/** The lanes to recompute, drawn from the node's randomness after the answer arrived. */
export function spotLanes(lanes: number): number[] {
  const picked = new Set<number>();
  while (picked.size < Math.min(lanes, CHALLENGE_SPOT_LANES)) picked.add(randomInt(lanes));
  return [...picked];
}

/** Measured parallel throughput in CU/s (all lanes over the observed time), after the checks. */
export function measuredCapability(
  challenge: Challenge,
  claimedElapsedMs: number,
  answeredAtMs: number,
): number {
  const observedMs = Math.max(1, answeredAtMs - challenge.sentAtMs);
  if (observedMs > CHALLENGE_TIMEOUT_MS) {
    throw new DpnError("DEVICE_CHALLENGE_TIMEOUT", "The capability benchmark took too long.", {
      hint: "Run the agent on a device that is not overloaded.",
    });
  }
  if (claimedElapsedMs > observedMs + TIMING_TOLERANCE_MS) {
    throw new DpnError(
      "DEVICE_CHALLENGE_IMPLAUSIBLE",
      "The benchmark's reported time exceeds the time the node observed.",
      {
        hint: "Report the real elapsed time of the benchmark.",
        details: { claimedElapsedMs, observedMs },
      },
    );
  }
  const lanesCu = (challenge.lanes * challenge.iterations) / DEFAULT_COST_MODEL.hashesPerCu;
  return (lanesCu + challenge.memoryMiB * MEMORY_PROBE_CU_PER_MIB) / (observedMs / 1000);
}
